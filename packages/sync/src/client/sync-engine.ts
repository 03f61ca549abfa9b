import {
  type ChronicleError,
  type Decider,
  type EpochResetNotice,
  type ExecuteOptions,
  type Foldable,
  foldEvents,
  type LocalLog,
  type RecordedEvent,
  type RejectedNotice,
  type SyncStatus,
  uuidv7,
} from "@chronicle/core";
import { decideEvents } from "@chronicle/core/store";
import { defaultLimits, type ProtocolLimits } from "../protocol/limits.ts";
import { checkPushable } from "../protocol/parse.ts";
import type { SnapshotWant } from "../protocol/snapshots.ts";
import { foldConfirmed, startOf } from "./confirmed-state.ts";
import type { EngineContext } from "./engine-context.ts";
import { StreamSession } from "./stream-session.ts";
import { realScheduler, type Scheduler, type SyncTransport } from "./transport.ts";

/** What {@link createSyncEngine} takes. */
export interface SyncEngineOptions {
  /** The device's local copy of its streams (IndexedDB in the browser, memory in tests). */
  local: LocalLog;
  /** How to reach the node. */
  transport: SyncTransport;
  /** This installation's id (`meta.device`). */
  device: string;
  /** The authenticated subject; set it to the token's `sub` (the node stamps that on events). @default "anonymous" */
  actor?: string;
  /** Deciders of strict commands, to decide them again after a conflict. */
  deciders?: readonly Decider[];
  /** The node's limits; pushes are batched within them. @default the protocol's defaults */
  limits?: Partial<ProtocolLimits>;
  /** Reconnect backoff: doubles from `initialMs` up to `maxMs`, with jitter. @default { initialMs: 250, maxMs: 30000 } */
  backoff?: {
    /** The first delay. @default 250 */
    initialMs?: number;
    /** The longest delay. @default 30000 */
    maxMs?: number;
  };
  /** A push or pull unanswered this long means the connection is broken. @default 15000 */
  requestTimeoutMs?: number;
  /** An idle live stream pulls this often, in case a live frame was lost; 0 turns it off. @default 60000 */
  catchUpIntervalMs?: number;
  /** Timers and randomness (virtual in tests). @default real timers and Math.random */
  scheduler?: Scheduler;
  /** Starts offline (e.g. `!navigator.onLine`). @default true */
  online?: boolean;
  /**
   * New devices start from the node's snapshots (docs/architecture.md, "Snapshots for new
   * devices"): a stream with an empty local log asks the node for the latest states of these
   * definitions (and of `deciders`), at their exact versions. When the node has all of them,
   * the log starts after their position (its floor) and only the tail is downloaded; otherwise
   * (none yet, another version, no node support) the whole log is replayed as before. Older
   * history is back-filled afterwards; until then, reads that need it fail with `not-found`,
   * `details.reason` `"history-incomplete"` (`isHistoryIncomplete`). @default none (full replay)
   */
  snapshots?: {
    /** Deciders whose state a new device starts from (`deciders` are added). */
    deciders?: readonly Foldable[];
    /** Stream projections whose state a new device starts from. */
    projections?: readonly Foldable[];
    /**
     * `"background"`: back-fill the older history page by page once the stream is caught up
     * and nothing is pending. `"on-demand"`: only when `backfill(stream)` is called (e.g. when
     * the app opens its history view). @default "background"
     */
    backfill?: "background" | "on-demand";
  };
}

/**
 * The client side of sync protocol v1: one session per stream keeps the local log and the
 * node's log converging. Streams you `start` hold a live connection; `syncOnce` connects,
 * pushes, catches up and disconnects (for the many streams a device has but does not show).
 *
 * @example
 * const engine = createSyncEngine({ local, transport: createWebSocketTransport({ url, token }), device: "laptop-1", deciders: [board] });
 * engine.onSyncStatus("board:1", (status) => render(status));
 * engine.start("board:1");
 * await engine.execute("board:1", board, { type: "addCard", title: "Hi" });
 */
export function createSyncEngine(options: SyncEngineOptions): SyncEngine {
  return new SyncEngine(options);
}

/**
 * A listener for values of `T`. Internal: not exported; the docs show it inline.
 *
 * @inline
 */
type Listener<T> = (value: T) => void;

/** A fold's state over a stream's confirmed log ({@link SyncEngine.stateAt}). */
export interface StreamState {
  /** The decider's or projection's state. */
  state: unknown;
  /** The last confirmed position folded in (0: before the first event). */
  position: number;
}

/** A fold's state as the app shows it ({@link SyncEngine.state}). */
export interface OptimisticStreamState extends StreamState {
  /** How many pending events were folded in after `position`. */
  pending: number;
}

/**
 * The client side of sync protocol v1 over a device's local log: one session per stream.
 * Create one with {@link createSyncEngine}.
 */
export class SyncEngine {
  readonly #local: LocalLog;
  readonly #sessions = new Map<string, StreamSession>();
  readonly #statusListeners = new Map<string, Set<Listener<SyncStatus>>>();
  readonly #changeListeners = new Set<Listener<string>>();
  readonly #rejectedListeners = new Set<Listener<RejectedNotice>>();
  readonly #epochListeners = new Set<Listener<EpochResetNotice>>();
  readonly #errorListeners = new Set<(stream: string, error: ChronicleError) => void>();
  readonly #confirmedCache = new Map<string, { position: number; state: unknown }>();
  readonly #context: EngineContext;
  #online: boolean;
  #closed = false;

  constructor(options: SyncEngineOptions) {
    this.#local = options.local;
    this.#online = options.online ?? true;
    const engine = this;
    this.#context = {
      local: options.local,
      transport: options.transport,
      scheduler: options.scheduler ?? realScheduler,
      limits: { ...defaultLimits, ...options.limits },
      backoff: {
        initialMs: options.backoff?.initialMs ?? 250,
        maxMs: options.backoff?.maxMs ?? 30_000,
      },
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      catchUpIntervalMs: options.catchUpIntervalMs ?? 60_000,
      device: options.device,
      actor: options.actor ?? "anonymous",
      sessionId: uuidv7().slice(-12),
      deciders: new Map((options.deciders ?? []).map((decider) => [decider.name, decider])),
      bootstrap: bootstrapWants(options),
      backfill: options.snapshots?.backfill ?? "background",
      get online() {
        return engine.#online;
      },
      confirmedState: (stream, decider) => this.#confirmedState(stream, decider),
      confirmedReset: (stream) => {
        for (const key of this.#confirmedCache.keys())
          if (key.endsWith(`\u0000${stream}`)) this.#confirmedCache.delete(key);
      },
      emitStatus: (stream, status) => {
        for (const listener of this.#statusListeners.get(stream) ?? []) listener(status);
      },
      emitChange: (stream) => {
        for (const listener of this.#changeListeners) listener(stream);
      },
      emitRejected: (notice) => {
        for (const listener of this.#rejectedListeners) listener(notice);
      },
      emitEpochReset: (notice) => {
        for (const listener of this.#epochListeners) listener(notice);
      },
      reportError: (stream, error) => {
        for (const listener of this.#errorListeners) listener(stream, error);
      },
    };
  }

  /** Keeps `stream` synced over a live connection until `stop`. */
  start(stream: string): void {
    this.#session(stream).start();
  }

  /** Closes `stream`'s connection; local writes keep accumulating as pending. */
  stop(stream: string): void {
    this.#sessions.get(stream)?.stop();
  }

  /**
   * Pushes what is pending and catches up, then disconnects. Rejects on `forbidden`, and when
   * the stream's state becomes `unauthorized` (the session keeps retrying meanwhile, and
   * finishes the sync once a token is accepted).
   */
  syncOnce(stream: string): Promise<void> {
    return this.#session(stream).syncOnce();
  }

  /**
   * Decides a command on the optimistic state (confirmed + pending), stores its events as
   * pending with the command, and pushes them when connected. Refusals throw, nothing stored:
   * `decide`'s, and events the node would refuse (`validation`: not exact JSON, a field the
   * envelope does not have; `too-large`: over the event size limit).
   * Of `options` it reads `strict` (rejected by the node when the stream moved since it was
   * decided; then decided again) and `context`; it keeps no undo stacks (`label`, `undoable`).
   */
  async execute<Command>(
    stream: string,
    decider: Decider<Command>,
    command: Command,
    options: ExecuteOptions = {},
  ): Promise<RecordedEvent[]> {
    const commandId = options.context?.commandId ?? uuidv7();
    const { state: confirmed, position } = await this.#confirmedState(stream, decider);
    const pending = await this.#local.readPending(stream);
    const state = foldEvents(
      decider,
      structuredClone(confirmed),
      pending.map((entry) => entry.event),
    );
    const events = decideEvents(decider, stream, command, state, {
      actor: this.#context.actor,
      device: this.#context.device,
      ...options.context,
      commandId,
    });
    if (events.length === 0) return [];
    // Exactly what the node will check on the push: a bad event never enters the local log.
    checkPushable(events, this.#context.limits);
    if (!this.#context.deciders.has(decider.name) && options.strict) {
      (this.#context.deciders as Map<string, Decider>).set(decider.name, decider);
    }
    await this.#local.addPending(stream, events, {
      id: commandId,
      decider: decider.name,
      command,
      strict: options.strict ?? false,
      basePosition: position,
    });
    this.#context.emitChange(stream);
    await this.kick(stream);
    return events;
  }

  /**
   * A decider's or projection's state over the stream's confirmed log as it was after
   * `at.position` (clamped to the head). On a device started from the node's snapshots, a
   * position below the floor, or a fold without a start snapshot, fails with `not-found` and
   * `details.reason` `"history-incomplete"` until the back-fill reached it (see `backfill`).
   *
   * @example
   * const { state } = await engine.stateAt("board:1", boardView, { position: 120 });
   */
  async stateAt(
    stream: string,
    foldable: Foldable,
    at: {
      /** After the event at this position (0: before the first event). */
      position: number;
    },
  ): Promise<StreamState> {
    const start = await startOf(this.#local, stream, foldable, Math.max(0, at.position));
    return foldConfirmed(this.#local, stream, foldable, start, at.position);
  }

  /**
   * What the app shows: a decider's or projection's state over the confirmed log (from the
   * start snapshot on a device started from one) with the pending events folded in.
   *
   * @example
   * const { state, position, pending } = await engine.state("board:1", boardView);
   */
  async state(stream: string, foldable: Foldable): Promise<OptimisticStreamState> {
    const confirmed = await foldConfirmed(
      this.#local,
      stream,
      foldable,
      await startOf(this.#local, stream, foldable),
    );
    const pending = await this.#local.readPending(stream);
    const state = foldEvents(
      foldable,
      confirmed.state,
      pending.map((entry) => entry.event),
    );
    return { state, position: confirmed.position, pending: pending.length };
  }

  /**
   * The stream's floor: events 1..floor are not on this device yet (0 once the whole history
   * is here, always 0 on a device that replayed the log).
   */
  historyFloor(stream: string): Promise<number> {
    return this.#local.confirmedFloor(stream);
  }

  /**
   * Back-fills the stream's older history (below its floor) while it is connected, page by page
   * after anything pending was pushed, and resolves once the whole history is on this device
   * (at once when it already is). With `snapshots.backfill: "on-demand"` this is what starts it.
   */
  async backfill(stream: string): Promise<void> {
    if ((await this.#local.confirmedFloor(stream)) === 0) return;
    await this.#session(stream).backfill();
  }

  /** Tells the engine that pending events were added to `stream` by someone else (another tab). */
  kick(stream: string): Promise<void> {
    const session = this.#sessions.get(stream);
    return session ? session.kick() : Promise.resolve();
  }

  /** Network reachability or the app's offline switch: `false` closes every connection. */
  setOnline(online: boolean): void {
    if (this.#online === online) return;
    this.#online = online;
    for (const session of this.#sessions.values()) session.networkChanged(online);
  }

  /** Whether the engine may connect (see `setOnline`). */
  get online(): boolean {
    return this.#online;
  }

  /**
   * The stream's sync status; `offline` with nothing counted for a stream this engine has not
   * started or synced yet.
   */
  syncStatus(stream: string): SyncStatus {
    return this.#sessions.get(stream)?.status ?? { state: "offline", pending: 0, confirmedHead: 0 };
  }

  /**
   * Calls `listener` at once with the stream's status (see `syncStatus`), then on every change.
   * Returns the unsubscribe function.
   */
  onSyncStatus(stream: string, listener: Listener<SyncStatus>): () => void {
    const listeners = this.#statusListeners.get(stream) ?? new Set();
    this.#statusListeners.set(stream, listeners);
    listeners.add(listener);
    listener(this.syncStatus(stream));
    return () => listeners.delete(listener);
  }

  /**
   * The local log of a stream changed (confirmed events arrived, pending ones were rebased).
   * Notices: the listener hears later ones only (so do onRejected, onEpochReset, onError).
   */
  onChange(listener: Listener<string>): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** A strict command became impossible, or the node refused events for good. */
  onRejected(listener: Listener<RejectedNotice>): () => void {
    this.#rejectedListeners.add(listener);
    return () => this.#rejectedListeners.delete(listener);
  }

  /** The node's log was recreated; the confirmed cache was dropped and pending events re-pushed. */
  onEpochReset(listener: Listener<EpochResetNotice>): () => void {
    this.#epochListeners.add(listener);
    return () => this.#epochListeners.delete(listener);
  }

  /** Local failures (storage errors) while syncing; the session retries. */
  onError(listener: (stream: string, error: ChronicleError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  /** Resolves when every session has finished what it was doing (not waiting on timers). */
  async idle(): Promise<void> {
    for (const session of this.#sessions.values()) await session.idle();
  }

  /** Stops every session. */
  close(): void {
    this.#closed = true;
    for (const session of this.#sessions.values()) session.stop();
  }

  #session(stream: string): StreamSession {
    if (this.#closed) throw new Error("the sync engine is closed");
    let session = this.#sessions.get(stream);
    if (!session) {
      session = new StreamSession(this.#context, stream);
      this.#sessions.set(stream, session);
    }
    return session;
  }

  // The decider's state over the confirmed prefix, cached and extended incrementally; on a
  // device started from the node's snapshots it starts from the decider's start snapshot.
  async #confirmedState(
    stream: string,
    decider: Decider,
  ): Promise<{ state: unknown; position: number }> {
    const key = `${decider.name}\u0000${stream}`;
    const cached = this.#confirmedCache.get(key) ?? (await startOf(this.#local, stream, decider));
    const next = await foldConfirmed(this.#local, stream, decider, cached);
    this.#confirmedCache.set(key, next);
    return { state: structuredClone(next.state), position: next.position };
  }
}

/** The states a new device asks the node for: every snapshot definition and decider, once. */
function bootstrapWants(options: SyncEngineOptions): SnapshotWant[] {
  if (!options.snapshots) return [];
  const wants = new Map<string, SnapshotWant>();
  for (const foldable of [
    ...(options.snapshots.deciders ?? []),
    ...(options.deciders ?? []),
    ...(options.snapshots.projections ?? []),
  ]) {
    const want = { kind: foldable.kind, name: foldable.name, version: foldable.version };
    wants.set(`${want.kind}/${want.name}`, want);
  }
  return [...wants.values()];
}

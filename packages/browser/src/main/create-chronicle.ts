// The main-thread side: a thin comlink client over the worker host, with a synchronous cache of
// projection states that the worker keeps current.
import {
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type ChronicleErrorJSON,
  type CommandContext,
  type CommandOf,
  type ConfirmedEvent,
  type Decider,
  type EventInput,
  type Foldable,
  type PointInTime,
  type Projection,
  type ReadStreamOptions,
  type StateChange,
  type StateOf,
  type UndoOutcome,
  type UndoState,
} from "@chronicle/core";
import { proxy, type Remote, releaseProxy, transfer, wrap } from "comlink";
import { installErrorTransfer } from "../shared/error-transfer.ts";
import type {
  ExecuteOptions,
  ExecuteResult,
  HostApi,
  HostDiagnostics,
  HostStatus,
  RejectedInfo,
  SyncStatusInfo,
  TimelineEntry,
  TimelineOptions,
} from "../shared/host-api.ts";
import { createCommandChannel } from "./command-channel.ts";
import { ProjectionCache } from "./projection-cache.ts";

export interface CreateChronicleOptions {
  /** A module worker whose module calls `hostChronicle` (or any endpoint comlink can wrap). */
  worker: Worker | MessagePort;
  /** Overrides the database name chosen in the worker module. */
  name?: string;
  /** `meta.actor` for events written from here. @default the host's actor */
  actor?: string;
  /** Ask the browser to keep this origin's storage under pressure. @default true */
  persist?: boolean;
  /** Leadership changes, a database blocked by an old tab, projection errors. */
  onStatus?: (status: HostStatus) => void;
  /** Terminate the worker on close(). @default true */
  terminate?: boolean;
}

/**
 * Undo/redo of this actor's commands on this device, by compensating events (see README: Undo
 * and redo). The stacks are shared by the device's tabs and survive reloads; they never sync.
 */
export interface ChronicleUndo {
  /** canUndo / canRedo and the labels of the next steps, as last reported by the worker. */
  readonly state: UndoState;
  /** Calls `listener` now and whenever the state changes (in this tab or another). */
  subscribe(listener: (state: UndoState) => void): () => void;
  /** Compensates the latest step against the current state: `done`, `skipped` (with a reason) or `empty`. */
  undo(): Promise<UndoOutcome>;
  /** Re-applies the latest undone step. */
  redo(): Promise<UndoOutcome>;
  /** Runs `work` with every command it executes merged into one step labelled `label`. */
  group<T>(label: string, work: () => Promise<T>): Promise<T>;
  /** Forgets both stacks. */
  clear(): Promise<void>;
}

/** A read-only view of a stream frozen at a position: render it while the live store goes on. */
export interface ChronicleView {
  readonly stream: string;
  /** The last confirmed position included (0: before the first event). */
  readonly position: number;
  /** A projection's or decider's state as of this view (from the nearest snapshot below it). */
  read<State>(foldable: Foldable<State>): Promise<State>;
  /** The view's events (up to its position). */
  events(options?: { from?: number; limit?: number }): Promise<ConfirmedEvent[]>;
}

export interface Chronicle {
  /** This installation's id. */
  readonly deviceId: string;
  /** Whether the browser granted persistent storage (false when it was not asked or refused). */
  readonly persisted: boolean;
  /** True while this tab's worker leads (owns sync and snapshotting). */
  isLeader(): boolean;
  /** Runs a command through a decider registered in the worker; resolves once committed. */
  execute<D extends Decider<any, any, any>>(
    stream: string,
    decider: D | string,
    command: CommandOf<D>,
    context?: CommandContext,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult>;
  /** Appends events of registered types without a decider. */
  append(stream: string, events: EventInput[], options?: AppendOptions): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<ConfirmedEvent[]>;
  /**
   * The projection's state, synchronously: current while subscribed, otherwise the last state
   * this tab saw (after `execute` or `load`), or `undefined` when it has seen none.
   */
  read<P extends Projection<any, any>>(projection: P, stream: string): StateOf<P> | undefined;
  /** Loads the projection's current state from the worker (and caches it). */
  load<P extends Projection<any, any>>(projection: P, stream: string): Promise<StateOf<P>>;
  /**
   * Calls `listener` with the state now (when known) and after every change, from this tab or
   * any other. Returns the unsubscribe function.
   */
  subscribe<P extends Projection<any, any>>(
    projection: P,
    stream: string,
    listener: (state: StateOf<P>) => void,
  ): () => void;
  /** Whether the worker module configured sync (commands then write pending events). */
  readonly sync: boolean;
  /** The stream's last sync status seen by this tab (undefined before the first, or without sync). */
  syncStatus(stream: string): SyncStatusInfo | undefined;
  /**
   * Calls `listener` with the stream's sync status now (when known) and on every change, from
   * whichever tab leads. Returns the unsubscribe function.
   */
  onSyncStatus(stream: string, listener: (status: SyncStatusInfo) => void): () => void;
  /** Calls `listener` when the sync engine drops a command or events. Returns the unsubscribe. */
  onRejected(listener: (notice: RejectedInfo) => void): () => void;
  /**
   * A projection's or decider's state as it was at a confirmed position, or at a time on the
   * node's clock (`{ time }`), computed in the worker from the nearest snapshot.
   */
  stateAt<State>(foldable: Foldable<State>, stream: string, at: PointInTime): Promise<State>;
  /** A read-only view of the stream at a position or time (see ChronicleView). */
  viewAt(stream: string, at: PointInTime): Promise<ChronicleView>;
  /**
   * The stream's events as timeline entries (who, when, what, undoOf/redoOf); with sync, the
   * pending ones last, marked `pending`.
   */
  history(stream: string, options?: TimelineOptions): Promise<TimelineEntry[]>;
  /** What changed in a projection's (or decider's) state between two confirmed positions. */
  diff<State>(
    foldable: Foldable<State>,
    stream: string,
    fromPosition: number,
    toPosition: number,
  ): Promise<StateChange[]>;
  /** Undo/redo of this actor's commands on this device: `useUndo(chronicle.undoManager)`. */
  readonly undoManager: ChronicleUndo;
  /** Figures about the worker (events stored, leadership). */
  diagnostics(): Promise<HostDiagnostics>;
  /**
   * Waits for the answers to commands already sent, then releases the worker, its database
   * connection, leadership and subscriptions.
   */
  close(): Promise<void>;
}

/**
 * Connects the main thread to a Chronicle worker.
 *
 * @example
 * const chronicle = await createChronicle({
 *   worker: new Worker(new URL("./chronicle.worker.ts", import.meta.url), { type: "module" }),
 * });
 * await chronicle.execute("board:1", board, { type: "addCard", title: "Write docs" });
 * const stop = chronicle.subscribe(boardView, "board:1", (state) => render(state));
 */
export async function createChronicle(options: CreateChronicleOptions): Promise<Chronicle> {
  installErrorTransfer();
  const remote: Remote<HostApi> = wrap<HostApi>(options.worker);
  const cache = new ProjectionCache();
  const watches = new Map<string, Promise<number>>();
  let leader = false;
  let closed = false;
  const syncStatuses = new Map<string, SyncStatusInfo>();
  const syncListeners = new Map<string, Set<(status: SyncStatusInfo) => void>>();
  const rejectedListeners = new Set<(notice: RejectedInfo) => void>();
  let undoState: UndoState = { canUndo: false, canRedo: false };
  let undoReported = false;
  const undoListeners = new Set<(state: UndoState) => void>();
  const onStatus = (status: HostStatus) => {
    if (status.type === "undo") {
      undoReported = true;
      undoState = status.state;
      for (const listener of [...undoListeners]) listener(undoState);
    }
    if (status.type === "leader") leader = status.leader;
    if (status.type === "sync-status") {
      syncStatuses.set(status.stream, status.status);
      for (const listener of [...(syncListeners.get(status.stream) ?? [])]) listener(status.status);
    }
    if (status.type === "sync-rejected") {
      for (const listener of [...rejectedListeners]) listener(status.notice);
    }
    options.onStatus?.(status);
  };
  const persisted = options.persist === false ? false : await requestPersistence();
  const commands = createCommandChannel();
  let info: Awaited<ReturnType<HostApi["open"]>>;
  try {
    const commandPort = commands.remotePort;
    info = await remote.open(
      transfer({ name: options.name, actor: options.actor, commands: commandPort }, [commandPort]),
      proxy(onStatus),
    );
  } catch (error) {
    commands.close();
    // Nothing to hand back: do not leave a worker holding the database behind.
    remote[releaseProxy]();
    if (options.terminate !== false && "terminate" in options.worker) options.worker.terminate();
    throw error;
  }
  leader ||= info.leader;
  const keyOf = (projection: Projection<any, any>, stream: string) =>
    `${projection.name}/${stream}`;
  const assertOpen = () => {
    if (closed) throw new ChronicleError("internal", "this Chronicle is closed");
  };
  // The worker's first undo report may have crossed `open`'s answer (statuses travel on their
  // own channel): ask once, and keep the answer only if no report came meanwhile.
  void remote.undoState().then(
    (state) => {
      if (!undoReported) onStatus({ type: "undo", state });
    },
    () => {},
  );
  const undoManager: ChronicleUndo = {
    get state() {
      return undoState;
    },
    subscribe(listener) {
      undoListeners.add(listener);
      listener(undoState);
      return () => undoListeners.delete(listener);
    },
    undo: () => {
      assertOpen();
      return remote.undo();
    },
    redo: () => {
      assertOpen();
      return remote.redo();
    },
    async group<T>(label: string, work: () => Promise<T>): Promise<T> {
      assertOpen();
      let result: T | undefined;
      await remote.undoGroup(
        label,
        proxy(async () => {
          result = await work();
        }),
      );
      return result as T;
    },
    clear: () => {
      assertOpen();
      return remote.clearUndo();
    },
  };

  return {
    deviceId: info.deviceId,
    persisted,
    isLeader: () => leader,
    async execute(stream, decider, command, context, executeOptions) {
      assertOpen();
      const name = typeof decider === "string" ? decider : decider.name;
      const result = await commands.execute(name, stream, command, context, executeOptions);
      for (const record of result.projections) cache.offer(record);
      return result;
    },
    append: (stream, events, appendOptions) => {
      assertOpen();
      return remote.append(stream, events, appendOptions);
    },
    readStream: (stream, readOptions) => {
      assertOpen();
      return remote.readStream(stream, readOptions);
    },
    read(projection, stream) {
      return cache.get(keyOf(projection, stream))?.state as StateOf<typeof projection> | undefined;
    },
    async load(projection, stream) {
      assertOpen();
      const record = await remote.read(projection.name, stream);
      cache.offer(record);
      return cache.get(record.key)!.state as StateOf<typeof projection>;
    },
    subscribe(projection, stream, listener) {
      assertOpen();
      const key = keyOf(projection, stream);
      const typed = listener as (state: unknown) => void;
      if (cache.listen(key, typed) === 1 && !watches.has(key)) {
        watches.set(
          key,
          remote.watch(
            projection.name,
            stream,
            proxy((record) => cache.offer(record)),
            proxy((error: ChronicleErrorJSON) =>
              onStatus({ type: "projection-error", projection: projection.name, error }),
            ),
          ),
        );
      }
      const known = cache.get(key);
      if (known) typed(known.state);
      return () => {
        if (cache.unlisten(key, typed) > 0) return;
        const watch = watches.get(key);
        watches.delete(key);
        void watch?.then((id) => (closed ? undefined : remote.unwatch(id))).catch(() => {});
      };
    },
    sync: info.sync,
    syncStatus: (stream) => syncStatuses.get(stream),
    onSyncStatus(stream, listener) {
      assertOpen();
      const listeners = syncListeners.get(stream) ?? new Set();
      syncListeners.set(stream, listeners);
      listeners.add(listener);
      const known = syncStatuses.get(stream);
      if (known) listener(known);
      else {
        void remote.syncStatus(stream).then(
          (status) => {
            if (status && !syncStatuses.has(stream) && listeners.has(listener)) {
              syncStatuses.set(stream, status);
              listener(status);
            }
          },
          () => {},
        );
      }
      return () => listeners.delete(listener);
    },
    onRejected(listener) {
      rejectedListeners.add(listener);
      return () => rejectedListeners.delete(listener);
    },
    async stateAt(foldable, stream, at) {
      assertOpen();
      return (await remote.stateAt(refOf(foldable), stream, at)).state as never;
    },
    async viewAt(stream, at) {
      assertOpen();
      const position = await remote.resolvePoint(stream, at);
      const states = new Map<string, Promise<unknown>>();
      return {
        stream,
        position,
        read<State>(foldable: Foldable<State>): Promise<State> {
          const key = `${foldable.kind}/${foldable.name}`;
          let state = states.get(key);
          if (!state) {
            state = remote.stateAt(refOf(foldable), stream, { position }).then((r) => r.state);
            states.set(key, state);
          }
          return state.then((value) => structuredClone(value) as State);
        },
        events: (options = {}) =>
          remote.readStream(stream, {
            from: options.from ?? 1,
            toPosition: position,
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          }),
      };
    },
    history: (stream, historyOptions) => {
      assertOpen();
      return remote.history(stream, historyOptions);
    },
    diff: (foldable, stream, from, to) => {
      assertOpen();
      return remote.diff(refOf(foldable), stream, from, to);
    },
    undoManager,
    diagnostics: () => {
      assertOpen();
      return remote.diagnostics();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        // Commands already sent get their answers before the worker lets go of the database.
        await commands.settled();
        cache.clear();
        await remote.close();
      } finally {
        commands.close();
        remote[releaseProxy]();
        if (options.terminate !== false && "terminate" in options.worker) {
          options.worker.terminate();
        }
      }
    },
  };
}

const refOf = (foldable: Foldable<unknown>) => ({ kind: foldable.kind, name: foldable.name });

async function requestPersistence(): Promise<boolean> {
  // Without it, Chromium may evict the origin's IndexedDB under storage pressure. Browsers grant
  // or refuse silently (Chromium by engagement heuristics); refusal is not an error.
  try {
    const storage = globalThis.navigator?.storage;
    if (!storage?.persist) return false;
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return false;
  }
}

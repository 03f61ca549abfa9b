// The local engine inside the worker: the Dexie store, deciders run in one transaction with the
// events and projection updates they cause, projection reads and watches, leadership. It has no
// comlink in it, so the node tier tests it directly on fake-indexeddb.
import {
  type AnyEventDefinition,
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type CommandContext,
  createEnvelope,
  createEventRegistry,
  createProjectionRunner,
  type Decider,
  type EventInput,
  foldEvents,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type SnapshotStore,
  snapshotIfDue,
  toChronicleError,
  uuidv7,
} from "@chronicle/core";
import type { DexieOptions } from "dexie";
import type {
  ExecuteOptions,
  ExecuteResult,
  HostStatus,
  OpenInfo,
  SyncStatusInfo,
} from "../shared/host-api.ts";
import { DexieLocalLog } from "../store/dexie-local-log.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { openDatabase } from "../store/open-database.ts";
import { createProjectionUpdater, type ProjectionUpdater } from "../store/projection-updater.ts";
import { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
import { allRequests } from "../store/storage-errors.ts";
import { type DeciderState, DeciderStates, deciderTypes } from "./decider-states.ts";
import { electLeader, type Leadership } from "./leader.ts";
import { executePending, type OptimisticDeps, readOptimistic } from "./optimistic.ts";
import { ProjectionWatchers } from "./projection-watchers.ts";
import { SyncBridge } from "./sync-bridge.ts";
import type { SyncHandle, SyncStarter } from "./sync-seam.ts";

export interface EngineOptions {
  /** The IndexedDB database name. @default "chronicle" */
  name?: string | undefined;
  /** Every event type the app writes with `append` (deciders and projections bring their own). */
  events?: readonly AnyEventDefinition[];
  deciders?: readonly Decider<any, any, any>[];
  projections?: readonly Projection<any, any>[];
  /**
   * Started by the leader only, stopped when leadership ends (see README: Sync). When set,
   * commands and appends write pending events and reads show the optimistic state.
   */
  sync?: SyncStarter | undefined;
  /** `meta.actor` of events written here. @default "anonymous" */
  actor?: string | undefined;
  /** For Node tests: fake-indexeddb's factory and key range. */
  indexedDB?: DexieOptions["indexedDB"];
  IDBKeyRange?: DexieOptions["IDBKeyRange"];
  /** Clock for recordedAt and snapshots. @default Date.now */
  now?: () => number;
  onStatus?: ((status: HostStatus) => void) | undefined;
}

/**
 * Opens the local engine: the database (reporting `blocked` while an old tab holds it), the
 * store with its in-transaction projection updater, and the leader election.
 *
 * @example
 * const engine = await openEngine({ name: "kanban", deciders: [board], projections: [boardView] });
 * await engine.execute("board", "board:1", { type: "addCard", title: "Write docs" });
 */
export async function openEngine(options: EngineOptions): Promise<ChronicleEngine> {
  const name = options.name ?? "chronicle";
  const status = options.onStatus ?? (() => {});
  const db = await openDatabase(name, {
    ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
    ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    onBlocked: () => status({ type: "blocked" }),
    onVersionChange: () => status({ type: "version-change" }),
  });
  const deviceId = String((await db.meta.get("device"))?.value ?? "unknown");
  return new ChronicleEngine(
    db.name,
    deviceId,
    options,
    new DexieEventStore({ db, ...(options.now ? { now: options.now } : {}) }),
  );
}

export class ChronicleEngine {
  readonly store: DexieEventStore;
  readonly snapshots: DexieSnapshotStore;
  readonly #options: EngineOptions;
  readonly #deciders = new Map<string, Decider<any, any, any>>();
  readonly #projections = new Map<string, Projection<any, any>>();
  readonly #registry;
  readonly #leadership: Leadership;
  readonly #runner: ProjectionRunner;
  readonly #updater: ProjectionUpdater;
  readonly #watchers: ProjectionWatchers;
  readonly #unlisten: () => void;
  readonly #deciderStates = new DeciderStates();
  readonly #local: DexieLocalLog;
  readonly #bridge: SyncBridge | undefined;
  readonly #optimistic: OptimisticDeps;
  #revision = 0;
  #sync: SyncHandle | undefined;
  #closed = false;

  constructor(
    readonly name: string,
    readonly deviceId: string,
    options: EngineOptions,
    store: DexieEventStore,
  ) {
    this.#options = options;
    this.store = store;
    this.snapshots = new DexieSnapshotStore(store.db);
    for (const decider of options.deciders ?? []) this.#deciders.set(decider.name, decider);
    for (const projection of options.projections ?? []) {
      this.#projections.set(projection.name, projection);
    }
    this.#registry = createEventRegistry([
      ...new Set([
        ...(options.events ?? []),
        ...[...this.#deciders.values()].flatMap((d) => d.events),
        ...[...this.#projections.values()].flatMap((p) => p.events),
      ]),
    ]);
    this.#updater = createProjectionUpdater({
      store,
      projections: [...this.#projections.values()],
      snapshots: this.snapshots,
      onError: (error, projection) =>
        this.#status({
          type: "projection-error",
          projection: projection.name,
          error: toChronicleError(error).toJSON(),
        }),
    });
    store.setAppendHook(this.#updater.update);
    this.#runner = createProjectionRunner({
      store,
      states: new DexieProjectionStateStore(store.db),
      snapshots: this.#leaderSnapshots(),
      ...(options.now ? { now: options.now } : {}),
    });
    this.#local = new DexieLocalLog(store);
    this.#optimistic = {
      local: this.#local,
      runner: this.#runner,
      deciderStates: this.#deciderStates,
      snapshots: this.#leaderSnapshots(),
      nextRevision: () => ++this.#revision,
    };
    const syncing = options.sync !== undefined;
    this.#bridge = syncing
      ? new SyncBridge(name, this.#local, (status) => this.#status(status))
      : undefined;
    this.#watchers = syncing
      ? new ProjectionWatchers(
          (projection, s) => readOptimistic(this.#optimistic, projection, s),
          true,
        )
      : new ProjectionWatchers((projection, s) => this.#runner.catchUp(projection, s));
    this.#unlisten = store.onCommit((notice) => this.#watchers.onCommit(notice));
    this.#leadership = electLeader(`chronicle-leader:${name}`, (leader) => {
      this.#status({ type: "leader", leader });
      void this.#onLeadership(leader);
    });
  }

  get isLeader(): boolean {
    return this.#leadership.isLeader;
  }

  info(): OpenInfo {
    return {
      name: this.name,
      deviceId: this.deviceId,
      leader: this.isLeader,
      sync: this.#bridge !== undefined,
    };
  }

  /** The last sync status of `stream` known here (relayed from the leader). */
  syncStatus(stream: string): SyncStatusInfo | undefined {
    return this.#bridge?.status(stream);
  }

  /**
   * Runs a command: loads the decider's state (snapshot + tail), decides, and appends, all in
   * one transaction with the projection updates the events cause. The leader also saves the
   * decider's snapshot in that transaction when one is due.
   */
  async execute(
    deciderName: string,
    stream: string,
    command: unknown,
    context: CommandContext = {},
    options: ExecuteOptions = {},
  ): Promise<ExecuteResult> {
    const decider = this.#deciders.get(deciderName);
    if (!decider) {
      throw new ChronicleError("validation", `no decider named "${deciderName}" is registered`, {
        details: { path: "decider", decider: deciderName },
      });
    }
    const commandId = context.commandId ?? uuidv7();
    const eventContext = {
      actor: this.#options.actor ?? "anonymous",
      device: this.deviceId,
      ...context,
      correlationId: context.correlationId ?? commandId,
      causationId: context.causationId ?? commandId,
    };
    if (this.#bridge) {
      return this.#executePending(
        decider,
        stream,
        command,
        { ...eventContext, commandId },
        options,
      );
    }
    const snapshots = this.#leaderSnapshots();
    let reached: DeciderState | undefined;
    const result = await this.store.transaction(async (): Promise<ExecuteResult> => {
      // Everything the command needs is read at once (IndexedDB pipelines the requests): where
      // the stream and the log end, and the projection records the events will move.
      const [position, records] = await allRequests([
        this.store.position(stream),
        this.#updater.prefetch(stream, deciderTypes(decider)),
      ]);
      const loaded = await this.#deciderStates.load(
        this.store,
        decider,
        stream,
        position,
        snapshots,
      );
      const decided = decider.decide(command, loaded.state);
      if (decided.length === 0) {
        reached = loaded;
        return { events: [], head: loaded.position, projections: [] };
      }
      const envelopes = decided.map((event) =>
        createEnvelope(stream, decider.registry.validate(event), eventContext),
      );
      // The head was read in this transaction (the fold reached it), and the envelopes' ids
      // were just generated: the store needs to read neither again.
      const written = await this.store.write(stream, envelopes, {
        expectedVersion: loaded.position === 0 ? "no-stream" : loaded.position,
        knownHead: loaded.position,
        freshIds: true,
        knownTail: position.tail ?? null,
        prefetched: records,
      });
      const state = foldEvents(decider, loaded.state, written.events);
      const snapshotPosition = await snapshotIfDue(
        snapshots,
        decider,
        stream,
        state,
        written.head,
        loaded.snapshotPosition,
        this.#options.now,
      );
      reached = {
        state,
        position: written.head,
        snapshotPosition,
        lastId: written.events.at(-1)?.id,
      };
      return { events: written.events, head: written.head, projections: [...written.projections] };
    }, `execute ${deciderName} on ${stream}`);
    // Only after the commit: an aborted transaction must not leave its state in the cache.
    if (reached) this.#deciderStates.remember(decider, stream, reached);
    return result;
  }

  /** Appends events of registered types (validated against their schemas) without a decider. */
  async append(
    stream: string,
    inputs: EventInput[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const envelopes = inputs.map((input) =>
      createEnvelope(stream, this.#registry.validate(input), {
        actor: this.#options.actor ?? "anonymous",
        device: this.deviceId,
      }),
    );
    if (!this.#bridge) return this.store.append(stream, envelopes, options);
    if ((options.expectedVersion ?? "any") !== "any") {
      throw new ChronicleError(
        "validation",
        "with sync, appends are ordered by the node: expectedVersion must be 'any' (use a strict command)",
        { details: { path: "expectedVersion" } },
      );
    }
    await this.#local.addPending(stream, envelopes);
    this.store.announce({ streams: [stream], pending: true });
    return { results: [], head: await this.store.head(stream) };
  }

  /**
   * A projection's state over one stream, caught up from its persisted checkpoint (with sync:
   * then the pending events, as an OptimisticRecord).
   */
  read(projectionName: string, stream: string): Promise<ProjectionRecord> {
    const projection = this.#projection(projectionName);
    if (this.#bridge) return readOptimistic(this.#optimistic, projection, stream);
    return this.#runner.catchUp(projection, stream);
  }

  /** Calls `onRecord` with the projection's record now and after every change; returns an id. */
  watch(
    projectionName: string,
    stream: string,
    onRecord: (record: ProjectionRecord) => void,
    onError?: (error: ChronicleError) => void,
  ): number {
    return this.#watchers.add(this.#projection(projectionName), stream, onRecord, onError);
  }

  unwatch(id: number): void {
    this.#watchers.remove(id);
  }

  /** Stops watches and sync, gives up leadership, closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.#watchers.clear();
    await this.#stopSync();
    this.#bridge?.close();
    this.#leadership.release();
    await this.store.close();
    this.store.db.close();
  }

  #projection(name: string): Projection<any, any> {
    const projection = this.#projections.get(name);
    if (!projection) {
      throw new ChronicleError("validation", `no projection named "${name}" is registered`, {
        details: { path: "projection", projection: name },
      });
    }
    return projection;
  }

  // Every context loads snapshots; only the leader saves them (DESIGN: the leader snapshots).
  #leaderSnapshots(): SnapshotStore {
    return {
      load: (key, options) => this.snapshots.load(key, options),
      save: async (snapshot) => {
        if (this.#leadership?.isLeader) await this.snapshots.save(snapshot);
      },
    };
  }

  async #onLeadership(leader: boolean): Promise<void> {
    if (!leader || this.#closed) return this.#stopSync();
    const start = this.#options.sync;
    if (start) {
      this.#sync = await start(
        this.#bridge!.context({
          deviceId: this.deviceId,
          actor: this.#options.actor ?? "anonymous",
          deciders: [...this.#deciders.values()],
        }),
      );
      // Leadership may have ended (or the engine closed) while the starter ran.
      if (!this.isLeader || this.#closed) await this.#stopSync();
    }
  }

  // With sync: decide on the optimistic state, store the events as pending with the command,
  // then tell every tab (and the leader's engine, which pushes them).
  async #executePending(
    decider: Decider<any, any, any>,
    stream: string,
    command: unknown,
    context: CommandContext & { commandId: string },
    options: ExecuteOptions,
  ): Promise<ExecuteResult> {
    const written = await executePending(
      this.#optimistic,
      decider,
      stream,
      command,
      context,
      options.strict ?? false,
    );
    this.#deciderStates.remember(decider, stream, written.confirmed);
    if (written.events.length === 0) return { events: [], head: written.head, projections: [] };
    const types = deciderTypes(decider);
    const concerned = [...this.#projections.values()].filter((projection) =>
      Object.keys(projection.handlers as object).some((type) => types.has(type)),
    );
    const projections = await Promise.all(
      concerned.map((projection) => readOptimistic(this.#optimistic, projection, stream)),
    );
    this.store.announce({ streams: [stream], records: projections, pending: true });
    return { events: written.events, head: written.head, projections, pending: true };
  }

  async #stopSync(): Promise<void> {
    const sync = this.#sync;
    this.#sync = undefined;
    await sync?.stop();
  }

  #status(status: HostStatus): void {
    if (!this.#closed || status.type === "leader") this.#options.onStatus?.(status);
  }
}

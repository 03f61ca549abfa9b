// The local engine inside the worker: the Dexie store, deciders run in one transaction with the
// events and projection updates they cause, projection reads and watches, leadership. It has no
// comlink in it, so the node tier tests it directly on fake-indexeddb.
import {
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  createEnvelope,
  createEventRegistry,
  createProjectionRunner,
  createUndoManager,
  type Decider,
  type EventInput,
  type ExecuteOptions,
  type Foldable,
  type HistoryEntry,
  type HistoryOptions,
  type PointInTime,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type SnapshotStore,
  type StateChange,
  type SyncHandle,
  type SyncStatus,
  toChronicleError,
  type UndoManager,
  type UndoOutcome,
  type UndoState,
  uuidv7,
} from "@chronicle/core";
import type {
  EarlyAnswer,
  ExecuteResult,
  FoldableRef,
  HostStatus,
  OpenInfo,
} from "../shared/host-api.ts";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import { DexieProcessStore } from "../store/dexie-process-store.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import { createProjectionUpdater, type ProjectionUpdater } from "../store/projection-updater.ts";
import { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
import { type CommandOutcome, CommandQueue } from "./command-queue.ts";
import { DeciderStates } from "./decider-states.ts";
import type { EngineOptions } from "./engine-options.ts";
import {
  executeLocal,
  executeLocalBatch,
  KnownWrites,
  type LocalExecuteDeps,
  type SpeculationStats,
} from "./execute-local.ts";
import { electLeader, type Leadership } from "./leader.ts";
import {
  appendPending,
  executeSynced,
  executeSyncedBatch,
  type OptimisticDeps,
  readDeciderState,
  readOptimistic,
  type SyncedCommand,
} from "./optimistic.ts";
import { OptimisticStates } from "./optimistic-states.ts";
import { OrderedLocalLog } from "./ordered-local-log.ts";
import {
  isPrefixProjection,
  PrefixProjections,
  rebuildStatus,
  withPrefixProjections,
} from "./prefix-projections.ts";
import { processEventStore } from "./process-event-store.ts";
import { ProcessHost } from "./process-host.ts";
import { ProjectionWatchers } from "./projection-watchers.ts";
import { SyncBridge } from "./sync-bridge.ts";
import {
  confirmedDiff,
  confirmedPointOf,
  confirmedStateAt,
  historyOf,
  type TimeTravelDeps,
} from "./time-travel.ts";
import { createEngineUndoHost, DexieUndoStorage } from "./undo.ts";

/** A command waiting in the engine's queue. */
interface QueuedCommand extends SyncedCommand {
  early: EarlyAnswer | undefined;
}

/**
 * Chronicle in a worker over IndexedDB: commands, projections kept in the same transactions,
 * leadership, sync, time travel and undo. Open one with {@link openEngine}; `hostChronicle`
 * serves one to the main thread.
 */
export class ChronicleEngine {
  /** The event store over the database. */
  readonly store: DexieEventStore;
  /** Where decider and projection snapshots are kept. */
  readonly snapshots: DexieSnapshotStore;
  readonly #options: EngineOptions;
  readonly #deciders = new Map<string, Decider<any, any, any>>();
  readonly #projections = new Map<string, Projection<any, any>>();
  readonly #registry;
  readonly #leadership: Leadership;
  readonly #runner: ProjectionRunner;
  readonly #updater: ProjectionUpdater;
  readonly #watchers: ProjectionWatchers;
  readonly #prefix: PrefixProjections;
  readonly #unlisten: () => void;
  readonly #deciderStates = new DeciderStates();
  /**
   * How often commands wrote speculatively, and how often that was stale (see execute-local).
   *
   * @internal Counters for this package's tests.
   */
  readonly speculation: SpeculationStats = { speculated: 0, stale: 0, unconfirmed: 0 };
  readonly #knownWrites = new KnownWrites();
  /**
   * Commands fired at once are committed in groups; `stats` counts the groups.
   *
   * @internal For this package's tests and benchmarks.
   */
  readonly commandQueue = new CommandQueue<QueuedCommand>({
    runOne: (stream, item) => this.#runOne(stream, item),
    runBatch: (stream, items) => this.#runBatch(stream, items),
  });
  /**
   * The optimistic states kept with sync (their `stats` count rebuilds and folds).
   *
   * @internal For this package's tests and benchmarks.
   */
  readonly optimisticStates: OptimisticStates;
  readonly #local: DexieLocalLog;
  readonly #bridge: SyncBridge | undefined;
  readonly #optimistic: OptimisticDeps;
  readonly #undoStorage: DexieUndoStorage;
  readonly #undo: UndoManager;
  readonly #timeTravel: TimeTravelDeps;
  readonly #processes: ProcessHost | undefined;
  #revision = 0;
  #recording: Promise<unknown> = Promise.resolve();
  #sync: SyncHandle | undefined;
  #closed = false;

  constructor(
    /** The database name. */
    readonly name: string,
    /** This installation's id (stored in the database, shared by its tabs). */
    readonly deviceId: string,
    options: EngineOptions,
    store: DexieEventStore,
  ) {
    this.#options = options;
    this.store = store;
    this.snapshots = new DexieSnapshotStore(store.db);
    for (const decider of options.deciders ?? []) this.#deciders.set(decider.name, decider);
    for (const projection of options.projections ?? []) {
      // Cross-stream projections (declared with a prefix) are kept by #prefix.
      if (!isPrefixProjection(projection)) this.#projections.set(projection.name, projection);
    }
    this.#registry = createEventRegistry([
      ...new Set([
        ...(options.events ?? []),
        ...[...this.#deciders.values()].flatMap((d) => d.events),
        ...(options.projections ?? []).flatMap((p) => p.events),
      ]),
    ]);
    const updater = createProjectionUpdater({
      store,
      projections: [...this.#projections.values()],
      snapshots: this.snapshots,
      events: [...this.#registry.definitions.values()],
      onRebuild: ({ done, total, ...rebuild }) =>
        this.#status({ type: "rebuild", progress: { ...rebuild, done, total } }),
      onError: (error, projection) =>
        this.#status({
          type: "projection-error",
          projection: projection.name,
          error: toChronicleError(error).toJSON(),
        }),
    });
    this.#runner = createProjectionRunner({
      store,
      states: new DexieProjectionStateStore(store.db),
      snapshots: this.#leaderSnapshots(),
      ...(options.now ? { now: options.now } : {}),
      onProgress: (progress) => {
        const status = rebuildStatus(progress);
        if (status) this.#status(status);
      },
    });
    this.#prefix = new PrefixProjections({
      store,
      projections: options.projections ?? [],
      runner: this.#runner,
      optimistic: options.sync !== undefined,
      onRebuild: (progress) => this.#status({ type: "rebuild", progress }),
      onError: (error, projection) =>
        this.#status({
          type: "projection-error",
          projection: projection.name,
          error: toChronicleError(error).toJSON(),
        }),
    });
    this.#updater = withPrefixProjections(updater, this.#prefix);
    store.setAppendHook(this.#updater.update);
    // The stamps its log leaves are its kept views' (optimistic-states.ts, invariant 7).
    this.optimisticStates = new OptimisticStates(store);
    this.#local = new OrderedLocalLog(store, this.optimisticStates.owner);
    this.#optimistic = {
      local: this.#local,
      runner: this.#runner,
      deciderStates: this.#deciderStates,
      states: this.optimisticStates,
      snapshots: this.#leaderSnapshots(),
      nextRevision: () => ++this.#revision,
    };
    const syncing = options.sync !== undefined;
    this.#bridge = syncing
      ? new SyncBridge(name, this.#local, (status) => this.#status(status), this.optimisticStates)
      : undefined;
    this.#timeTravel = {
      store,
      snapshots: this.snapshots,
      local: syncing ? this.#local : undefined,
    };
    this.#watchers = syncing
      ? new ProjectionWatchers(
          (projection, s) => readOptimistic(this.#optimistic, projection, s),
          true,
        )
      : new ProjectionWatchers((projection, s) => this.#runner.catchUp(projection, s));
    this.#unlisten = store.onCommit((notice) => {
      this.#watchers.onCommit(notice);
      this.#prefix.onCommit(notice);
    });
    // Processes and reactions run in the leader only (process-host.ts).
    this.#processes =
      (options.processes?.length ?? 0) + (options.reactions?.length ?? 0) > 0
        ? new ProcessHost({
            store: processEventStore({
              store,
              local: syncing ? this.#local : undefined,
              forgetStream: (s) => this.#deciderStates.forgetStream(s),
            }),
            processStore: new DexieProcessStore(store.db),
            deciders: [...this.#deciders.values()],
            processes: options.processes ?? [],
            reactions: options.reactions ?? [],
            clock: options.processClock,
            actor: options.actor ?? "anonymous",
            device: deviceId,
            onError: (error) =>
              this.#status({ type: "process-error", error: toChronicleError(error).toJSON() }),
          })
        : undefined;
    this.#undoStorage = new DexieUndoStorage(store, name);
    const undoOptions = options.undo ?? {};
    this.#undo = createUndoManager({
      host: createEngineUndoHost({
        local: this.#local,
        snapshots: this.#leaderSnapshots(),
        sync: syncing,
        appendConfirmed: async (stream, events) => {
          try {
            return (await store.write(stream, events)).events;
          } finally {
            this.#deciderStates.forgetStream(stream);
          }
        },
        appendPending: async (stream, events) => {
          await appendPending(this.#local, stream, events, {});
        },
      }),
      actor: options.actor ?? "anonymous",
      device: deviceId,
      deciders: [...this.#deciders.values()],
      storage: this.#undoStorage,
      ...(undoOptions.captureWindowMs === undefined
        ? {}
        : { captureWindowMs: undoOptions.captureWindowMs }),
      ...(undoOptions.maxSteps === undefined ? {} : { maxSteps: undoOptions.maxSteps }),
      // A command does not pay for an IndexedDB write of the stacks: bursts are saved once.
      saveDelayMs: undoOptions.saveDelayMs ?? 250,
    });
    // Only changes cross to the main thread (most commands leave the buttons as they were).
    let reported = "";
    this.#undo.subscribe((state) => {
      const key = JSON.stringify(state);
      if (key === reported) return;
      reported = key;
      this.#status({ type: "undo", state });
    });
    this.#leadership = electLeader(`chronicle-leader:${name}`, (leader) => {
      this.#status({ type: "leader", leader });
      void this.#onLeadership(leader);
    });
  }

  /** True while this engine leads (owns sync and snapshotting). */
  get isLeader(): boolean {
    return this.#leadership.isLeader;
  }

  /**
   * The processes and reactions of this engine (undefined when it has none).
   *
   * @internal The worker host's reads (host.ts) and this package's tests.
   */
  get processes(): ProcessHost | undefined {
    return this.#processes;
  }

  /** What `open` answers: the database name, device id, leadership and whether sync is on. */
  info(): OpenInfo {
    return {
      name: this.name,
      deviceId: this.deviceId,
      leader: this.isLeader,
      sync: this.#bridge !== undefined,
    };
  }

  /** The last sync status of `stream` known here (relayed from the leader). */
  syncStatus(stream: string): SyncStatus | undefined {
    return this.#bridge?.status(stream);
  }

  /**
   * Runs a command: loads the decider's state (snapshot + tail), decides, and appends, all in
   * one transaction with the projection updates the events cause. The leader also saves the
   * decider's snapshot in that transaction when one is due. `early` receives the result when it
   * is known before the transaction has finished committing (the returned promise then settles
   * with that same object once it has; a different result or an error means it did not commit).
   * `decider` is a registered decider or its name.
   */
  async execute(
    stream: string,
    decider: Decider<any, any, any> | string,
    command: unknown,
    options: ExecuteOptions = {},
    early?: EarlyAnswer,
  ): Promise<ExecuteResult> {
    const registered = this.#decider(typeof decider === "string" ? decider : decider.name);
    const context = options.context ?? {};
    const commandId = context.commandId ?? uuidv7();
    const eventContext = {
      actor: this.#options.actor ?? "anonymous",
      device: this.deviceId,
      ...context,
      correlationId: context.correlationId ?? commandId,
      causationId: context.causationId ?? commandId,
    };
    // Commands fired at once on a stream are committed in groups (command-queue.ts).
    const result = await this.commandQueue.submit(stream, {
      decider: registered,
      command,
      context: { ...eventContext, commandId },
      strict: options.strict ?? false,
      early,
    });
    if (options.undoable !== false && result.events.length > 0) {
      const label = options.label ?? this.#options.undo?.labelOf?.(command, registered.name);
      // Not awaited: the command's caller (and its render) does not wait for the undo stacks
      // to be saved. The manager runs its operations in order, so an undo() issued after this
      // command still sees its step.
      this.#recording = this.#undo
        .record(stream, registered, result.events, {
          ...(label === undefined ? {} : { label }),
          ...(options.mergeKey === undefined ? {} : { mergeKey: options.mergeKey }),
        })
        .catch((error: unknown) =>
          this.#status({ type: "undo-error", error: toChronicleError(error).toJSON() }),
        );
    }
    return result;
  }

  /** Compensates this actor's latest change on this device (see README: Undo and redo). */
  undo(): Promise<UndoOutcome> {
    return this.#undo.undo();
  }

  /** Re-applies the latest undone change. */
  redo(): Promise<UndoOutcome> {
    return this.#undo.redo();
  }

  /** Whether undo/redo can run, and the labels of the next steps (after the commands so far). */
  async undoState(): Promise<UndoState> {
    await this.#undo.ready;
    await this.#recording;
    return this.#undo.state;
  }

  /** Forgets this actor's undo and redo stacks on this device. */
  clearUndo(): Promise<void> {
    return this.#undo.clear();
  }

  /** Runs `work` with every command it executes merged into one undo step labelled `label`. */
  undoGroup<T>(label: string, work: () => Promise<T>): Promise<T> {
    return this.#undo.group(label, work);
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
    if (!this.#bridge) {
      try {
        return await this.store.append(stream, envelopes, options);
      } finally {
        // The next command's known state would be refused by the position just taken.
        this.#deciderStates.forgetStream(stream);
      }
    }
    return appendPending(this.#local, stream, envelopes, options);
  }

  /**
   * A projection's state over one stream, caught up from its persisted checkpoint (with sync:
   * then the pending events, as an OptimisticRecord).
   */
  read(projectionName: string, stream?: string): Promise<ProjectionRecord> {
    if (stream === undefined) return this.#prefix.read(this.#crossStream(projectionName));
    const projection = this.#projection(projectionName);
    if (this.#bridge) return readOptimistic(this.#optimistic, projection, stream);
    return this.#runner.catchUp(projection, stream);
  }

  /**
   * With sync: the optimistic state the next command of the decider on the stream is decided on.
   *
   * @internal For this package's tests.
   */
  async optimisticState(deciderName: string, stream: string): Promise<unknown> {
    if (!this.#bridge) throw new Error("optimisticState: this engine has no sync");
    return readDeciderState(this.#optimistic, this.#decider(deciderName), stream);
  }

  /** Calls `onRecord` with the projection's record now and after every change; returns an id. */
  watch(
    projectionName: string,
    stream: string | undefined,
    onRecord: (record: ProjectionRecord) => void,
    onError?: (error: ChronicleError) => void,
  ): number {
    if (stream === undefined) {
      return this.#prefix.watch(this.#crossStream(projectionName), onRecord, onError);
    }
    return this.#watchers.add(this.#projection(projectionName), stream, onRecord, onError);
  }

  /** Stops the watch with this id. */
  unwatch(id: number): void {
    if (id < 0) this.#prefix.unwatch(id);
    else this.#watchers.remove(id);
  }

  /**
   * Rebuilds a projection's persisted record from the first event (no stream: a cross-stream
   * projection), reporting `rebuild` statuses; returns the record as `read` would.
   */
  async rebuild(projectionName: string, stream?: string): Promise<ProjectionRecord> {
    if (stream === undefined) {
      const projection = this.#crossStream(projectionName);
      await this.#runner.rebuild(projection, { prefix: projection.prefix! });
    } else {
      await this.#runner.rebuild(this.#projection(projectionName), stream);
    }
    return this.read(projectionName, stream);
  }

  /**
   * The state of a projection or decider as it was at a position or time of the stream's
   * confirmed log (pending events have no position yet), from the nearest snapshot below it.
   */
  // Async so that an unknown projection or decider rejects rather than throws.
  async stateAt(
    ref: FoldableRef,
    stream: string,
    at: PointInTime,
  ): Promise<{
    /** The folded state. */
    state: unknown;
    /** The last position folded in. */
    position: number;
  }> {
    return confirmedStateAt(this.#timeTravel, this.#foldable(ref), stream, at);
  }

  /** The last confirmed position at a point in time, at most the head. */
  resolvePoint(stream: string, at: PointInTime): Promise<number> {
    return confirmedPointOf(this.#timeTravel, stream, at);
  }

  /**
   * The stream's events as history entries; with sync, the pending ones follow the confirmed
   * ones (`pending: true`, provisional positions after the head).
   */
  history(stream: string, options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    return historyOf(this.#timeTravel, stream, options);
  }

  /** What changed in a projection's (or decider's) state between two confirmed positions. */
  async diff(ref: FoldableRef, stream: string, from: number, to: number): Promise<StateChange[]> {
    return confirmedDiff(this.#timeTravel, this.#foldable(ref), stream, from, to);
  }

  /** Stops watches and sync, gives up leadership, closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.#watchers.clear();
    this.#prefix.clear();
    await this.#recording;
    // Disposed before the flush: a notice from another tab can no longer queue a reload behind
    // the flush, one this close would not wait for and that would read the closed database.
    this.#undo.dispose();
    await this.#undo.flush().catch(() => {});
    this.#undoStorage.close();
    await this.#processes?.close();
    await this.#stopSync();
    this.#bridge?.close();
    this.#leadership.release();
    await this.store.close();
    this.store.db.close();
  }

  #runOne(stream: string, item: QueuedCommand): Promise<ExecuteResult> {
    if (this.#bridge) {
      const { decider, command, context, strict, early } = item;
      return executeSynced(
        this.#optimistic,
        [...this.#projections.values()],
        decider,
        stream,
        command,
        context,
        strict,
        early,
      );
    }
    const { commandId: _commandId, ...eventContext } = item.context;
    return executeLocal(
      this.#localDeps(),
      item.decider,
      stream,
      item.command,
      eventContext,
      item.early,
    );
  }

  #runBatch(stream: string, items: readonly QueuedCommand[]): Promise<CommandOutcome[]> {
    if (this.#bridge) {
      return executeSyncedBatch(this.#optimistic, [...this.#projections.values()], stream, items);
    }
    return executeLocalBatch(
      this.#localDeps(),
      stream,
      items.map(({ decider, command, context: { commandId: _commandId, ...eventContext } }) => ({
        decider,
        command,
        eventContext,
      })),
    );
  }

  #localDeps(): LocalExecuteDeps {
    return {
      store: this.store,
      updater: this.#updater,
      deciderStates: this.#deciderStates,
      snapshots: this.#leaderSnapshots(),
      now: this.#options.now,
      stats: this.speculation,
      knownWrites: this.#knownWrites,
    };
  }

  #foldable(ref: FoldableRef): Foldable<unknown> {
    return ref.kind === "projection" ? this.#projection(ref.name) : this.#decider(ref.name);
  }

  #decider(name: string): Decider<any, any, any> {
    const decider = this.#deciders.get(name);
    if (!decider) {
      throw new ChronicleError("validation", `no decider named "${name}" is registered`, {
        details: { path: "decider", decider: name },
      });
    }
    return decider;
  }

  #crossStream(name: string): Projection<any, any> {
    const projection = this.#prefix.get(name);
    if (!projection) {
      throw new ChronicleError(
        "validation",
        `no cross-stream projection named "${name}" is registered (declare it with a prefix)`,
        { details: { path: "projection", projection: name } },
      );
    }
    return projection;
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

  // Every context loads snapshots; only the leader saves them (docs/architecture.md, "The leader").
  #leaderSnapshots(): SnapshotStore {
    return {
      load: (key, options) => this.snapshots.load(key, options),
      save: async (snapshot) => {
        if (this.#leadership?.isLeader) await this.snapshots.save(snapshot);
      },
    };
  }

  async #onLeadership(leader: boolean): Promise<void> {
    void this.#processes?.setLeader(leader && !this.#closed);
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

  async #stopSync(): Promise<void> {
    const sync = this.#sync;
    this.#sync = undefined;
    await sync?.stop();
  }

  #status(status: HostStatus): void {
    if (status.type === "sync-rejected") void this.#processes?.rejected(status.notice);
    if (!this.#closed || status.type === "leader") this.#options.onStatus?.(status);
  }
}

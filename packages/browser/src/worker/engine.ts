// The local engine inside the worker: the Dexie store, deciders run in one transaction with the
// events and projection updates they cause, projection reads and watches, leadership. It has no
// comlink in it, so the node tier tests it directly on fake-indexeddb.
import {
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type CommandContext,
  createEnvelope,
  createEventRegistry,
  createProjectionRunner,
  type Decider,
  type EventInput,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type SnapshotStore,
  toChronicleError,
  uuidv7,
} from "@chronicle/core";
import type {
  ExecuteOptions,
  ExecuteResult,
  HostStatus,
  OpenInfo,
  SyncStatusInfo,
} from "../shared/host-api.ts";
import { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import { createProjectionUpdater, type ProjectionUpdater } from "../store/projection-updater.ts";
import { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
import { DeciderStates } from "./decider-states.ts";
import type { EngineOptions } from "./open-engine.ts";

export type { EngineOptions };

import { executeLocal, type SpeculationStats } from "./execute-local.ts";
import { electLeader, type Leadership } from "./leader.ts";
import { appendPending, executeSynced, type OptimisticDeps, readOptimistic } from "./optimistic.ts";
import { ProjectionWatchers } from "./projection-watchers.ts";
import { SyncBridge } from "./sync-bridge.ts";
import type { SyncHandle } from "./sync-seam.ts";

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
  /** How often commands wrote speculatively, and how often that was stale (see execute-local). */
  readonly speculation: SpeculationStats = { speculated: 0, stale: 0 };
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
      return executeSynced(
        this.#optimistic,
        [...this.#projections.values()],
        decider,
        stream,
        command,
        { ...eventContext, commandId },
        options.strict ?? false,
      );
    }
    return executeLocal(
      {
        store: this.store,
        updater: this.#updater,
        deciderStates: this.#deciderStates,
        snapshots: this.#leaderSnapshots(),
        now: this.#options.now,
        stats: this.speculation,
      },
      decider,
      stream,
      command,
      eventContext,
    );
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
    return appendPending(this.#local, stream, envelopes, options);
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

  async #stopSync(): Promise<void> {
    const sync = this.#sync;
    this.#sync = undefined;
    await sync?.stop();
  }

  #status(status: HostStatus): void {
    if (!this.#closed || status.type === "leader") this.#options.onStatus?.(status);
  }
}

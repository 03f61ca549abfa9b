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
  loadState,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type SnapshotStore,
  snapshotIfDue,
  toChronicleError,
  uuidv7,
} from "@chronicle/core";
import type { DexieOptions } from "dexie";
import type { ExecuteResult, HostStatus, OpenInfo } from "../shared/host-api.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { openDatabase } from "../store/open-database.ts";
import { createProjectionUpdater } from "../store/projection-updater.ts";
import { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
import { electLeader, type Leadership } from "./leader.ts";
import type { SyncHandle, SyncStarter } from "./sync-seam.ts";

export interface EngineOptions {
  /** The IndexedDB database name. @default "chronicle" */
  name?: string | undefined;
  /** Every event type the app writes with `append` (deciders and projections bring their own). */
  events?: readonly AnyEventDefinition[];
  deciders?: readonly Decider<any, any, any>[];
  projections?: readonly Projection<any, any>[];
  /** Started by the leader only, stopped when leadership ends (see README: the sync seam). */
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
  readonly #watches = new Map<number, { close(): void }>();
  readonly #runner: ProjectionRunner;
  #sync: SyncHandle | undefined;
  #nextWatch = 1;
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
    store.setAppendHook(
      createProjectionUpdater({
        store,
        projections: [...this.#projections.values()],
        snapshots: this.snapshots,
        onError: (error, projection) =>
          this.#status({
            type: "projection-error",
            projection: projection.name,
            error: toChronicleError(error).toJSON(),
          }),
      }),
    );
    this.#runner = createProjectionRunner({
      store,
      states: new DexieProjectionStateStore(store.db),
      snapshots: this.#leaderSnapshots(),
      ...(options.now ? { now: options.now } : {}),
    });
    this.#leadership = electLeader(`chronicle-leader:${name}`, (leader) => {
      this.#status({ type: "leader", leader });
      void this.#onLeadership(leader);
    });
  }

  get isLeader(): boolean {
    return this.#leadership.isLeader;
  }

  info(): OpenInfo {
    return { name: this.name, deviceId: this.deviceId, leader: this.isLeader };
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
    const snapshots = this.#leaderSnapshots();
    return this.store.transaction(async () => {
      const loaded = await loadState(this.store, decider, stream, { snapshots });
      const decided = decider.decide(command, loaded.state);
      if (decided.length === 0) return { events: [], head: loaded.position, projections: [] };
      const envelopes = decided.map((event) =>
        createEnvelope(stream, decider.registry.validate(event), eventContext),
      );
      const written = await this.store.write(stream, envelopes, {
        expectedVersion: loaded.position === 0 ? "no-stream" : loaded.position,
      });
      if (decider.snapshotEvery) {
        const state = foldEvents(decider, loaded.state, written.events);
        await snapshotIfDue(
          snapshots,
          decider,
          stream,
          state,
          written.head,
          loaded.snapshotPosition,
          this.#options.now,
        );
      }
      return { events: written.events, head: written.head, projections: [...written.projections] };
    }, `execute ${deciderName} on ${stream}`);
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
    return this.store.append(stream, envelopes, options);
  }

  /** A projection's state over one stream, caught up from its persisted checkpoint. */
  read(projectionName: string, stream: string): Promise<ProjectionRecord> {
    return this.#runner.catchUp(this.#projection(projectionName), stream);
  }

  /** Calls `onRecord` with the projection's record now and after every change; returns an id. */
  watch(
    projectionName: string,
    stream: string,
    onRecord: (record: ProjectionRecord) => void,
    onError?: (error: ChronicleError) => void,
  ): number {
    const projection = this.#projection(projectionName);
    const id = this.#nextWatch++;
    const key = `${projection.name}/${stream}`;
    const watcher = this.#runner.watch(
      projection,
      stream,
      (state, checkpoint) =>
        onRecord({ key, name: projection.name, version: projection.version, checkpoint, state }),
      (error) => onError?.(toChronicleError(error)),
    );
    this.#watches.set(id, watcher);
    return id;
  }

  unwatch(id: number): void {
    this.#watches.get(id)?.close();
    this.#watches.delete(id);
  }

  /** Stops watches and sync, gives up leadership, closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const watcher of this.#watches.values()) watcher.close();
    this.#watches.clear();
    await this.#stopSync();
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
      this.#sync = await start({ store: this.store, db: this.store.db, deviceId: this.deviceId });
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

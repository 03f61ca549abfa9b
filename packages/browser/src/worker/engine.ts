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
import type { ExecuteResult, HostStatus, OpenInfo } from "../shared/host-api.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { openDatabase } from "../store/open-database.ts";
import { createProjectionUpdater, type ProjectionUpdater } from "../store/projection-updater.ts";
import { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
import { allRequests } from "../store/storage-errors.ts";
import { type DeciderState, DeciderStates, deciderTypes } from "./decider-states.ts";
import { electLeader, type Leadership } from "./leader.ts";
import { ProjectionWatchers } from "./projection-watchers.ts";
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
  readonly #runner: ProjectionRunner;
  readonly #updater: ProjectionUpdater;
  readonly #watchers: ProjectionWatchers;
  readonly #unlisten: () => void;
  readonly #deciderStates = new DeciderStates();
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
    this.#watchers = new ProjectionWatchers(this.#runner);
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

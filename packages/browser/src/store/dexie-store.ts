// DexieEventStore: core's EventStore over IndexedDB. Without a sync engine it is the local
// authority (it assigns positions and recordedAt, like MemoryEventStore); the append decision
// table is core's `planAppend`, so it agrees with every other store.
import {
  type AppendedEvent,
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type ConfirmedEvent,
  createPullSubscription,
  type EventHandler,
  type EventStore,
  type LoggedEvent,
  matchesExpected,
  type NewEvent,
  type ProjectionRecord,
  planAppend,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
  type Subscription,
  validateBatch,
} from "@chronicle/core";
import Dexie, { type DexieOptions } from "dexie";
import { type CommitChannel, type CommitNotice, createCommitChannel } from "./commit-channel.ts";
import { ChronicleDb, type EventRow } from "./schema.ts";
import { isKeyConflict, toStorageError } from "./storage-errors.ts";

/** Runs inside an append's transaction after its events are written; a throw aborts it all. */
export type AppendHook = (
  stream: string,
  events: readonly ConfirmedEvent[],
  /** Projection records the caller already read in this transaction, by key. */
  prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>,
) => Promise<readonly ProjectionRecord[]>;

/** The last stored event's commit sequence and recordedAt (what an append continues from). */
export interface LogTail {
  seq: number;
  recordedAt: number;
}

/** Where a stream and the log end, as kept in `meta` by every write. */
export interface StreamPosition {
  head: number;
  /** The id of the event at `head` (undefined for an empty stream). */
  lastId: string | undefined;
  tail: LogTail | undefined;
}

/** `meta` keys of the stream heads and the log tail (single gets: cheaper than cursors). */
export const headKey = (stream: string) => `head/${stream}`;
const tailKey = "tail";

export interface DexieEventStoreOptions {
  /** The IndexedDB database name; every tab using it shares one log. @default "chronicle" */
  name?: string;
  /** Use this database instead of opening one by name (the store then does not close it). */
  db?: ChronicleDb;
  /** IndexedDB implementation, e.g. fake-indexeddb's in Node. @default the global one */
  indexedDB?: DexieOptions["indexedDB"];
  /** IDBKeyRange matching `indexedDB`. @default the global one */
  IDBKeyRange?: DexieOptions["IDBKeyRange"];
  /** Clock for `recordedAt`; kept non-decreasing by the store. @default Date.now */
  now?: () => number;
  /** Events per page delivered to subscriptions. @default 500 */
  pageSize?: number;
  /** Tell other tabs and workers about commits (BroadcastChannel). @default true */
  broadcast?: boolean;
  /** Runs in every append's transaction (projection updates); see {@link AppendHook}. */
  onAppend?: AppendHook;
}

/** `write` options for callers that already know facts the store would otherwise read. */
export interface WriteOptions extends AppendOptions {
  /**
   * The stream's head, read earlier in the same transaction (so it cannot have moved). Saves a
   * read. Only valid inside {@link DexieEventStore.transaction}.
   */
  knownHead?: number;
  /**
   * The events' ids were generated just now (UUIDv7) and cannot be stored yet: skip the
   * idempotency lookup. Never set it for events that may be re-sent.
   */
  freshIds?: boolean;
  /** The log's tail, read earlier in the same transaction (`null`: the log is empty). */
  knownTail?: LogTail | null;
  /** Passed on to the append hook (see {@link AppendHook}). */
  prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>;
}

/** An append's result with what it wrote, for callers inside the engine. */
export interface WriteResult extends AppendResult {
  /** The events written (empty for a duplicate batch). */
  events: ConfirmedEvent[];
  /** Projection records the append hook updated in the same transaction. */
  projections: readonly ProjectionRecord[];
}

/**
 * An EventStore in IndexedDB (Dexie), passing core's store contract suite. Appends are one
 * transaction each; `onAppend` runs inside it, so the projections an append moves commit with
 * it or not at all. Subscriptions wake on commits in this context and in other tabs.
 *
 * @example
 * const store = new DexieEventStore({ name: "kanban" });
 * await store.append("board:1", [event], { expectedVersion: "no-stream" });
 * const events = await store.readStream("board:1");
 */
export class DexieEventStore implements EventStore {
  readonly db: ChronicleDb;
  readonly #ownsDb: boolean;
  readonly #now: () => number;
  readonly #pageSize: number;
  readonly #channel: CommitChannel;
  #onAppend: AppendHook | undefined;
  #closed = false;

  constructor(options: DexieEventStoreOptions = {}) {
    const name = options.db?.name ?? options.name ?? "chronicle";
    const dexieOptions: DexieOptions = {};
    if (options.indexedDB) dexieOptions.indexedDB = options.indexedDB;
    if (options.IDBKeyRange) dexieOptions.IDBKeyRange = options.IDBKeyRange;
    this.db = options.db ?? new ChronicleDb(name, dexieOptions);
    this.#ownsDb = options.db === undefined;
    this.#now = options.now ?? Date.now;
    this.#pageSize = options.pageSize ?? 500;
    this.#onAppend = options.onAppend;
    this.#channel = createCommitChannel(
      options.broadcast === false ? undefined : `chronicle-commits:${name}`,
    );
  }

  /** Sets the in-transaction append hook (the engine installs its projection updater). */
  setAppendHook(hook: AppendHook | undefined): void {
    this.#onAppend = hook;
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const { results, head } = await this.write(stream, events, options);
    return { results, head };
  }

  /**
   * `append` that also returns the written events and the projection records updated with
   * them. Joins the caller's transaction when called inside {@link transaction}.
   */
  async write(
    stream: string,
    events: readonly NewEvent[],
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    this.#assertOpen();
    validateBatch(stream, events);
    if (options.freshIds || this.#inOurTransaction())
      return this.#write(stream, events, options, false);
    // Optimistic first: events are keyed by id, so IndexedDB itself refuses a batch holding a
    // stored id (the whole transaction aborts). Only then, or when the expected version does
    // not match (a re-sent batch may be a duplicate), are the ids looked up.
    try {
      return await this.#write(stream, events, options, true);
    } catch (error) {
      if (!isKeyConflict(error)) throw error;
    }
    return this.#write(stream, events, options, false);
  }

  async #write(
    stream: string,
    events: readonly NewEvent[],
    options: WriteOptions,
    optimistic: boolean,
  ): Promise<WriteResult> {
    const expected = options.expectedVersion ?? "any";
    return this.transaction(async () => {
      const ids = events.map((event) => event.id);
      const known = options.knownHead !== undefined && options.knownTail !== undefined;
      // Issued together: IndexedDB pipelines requests within a transaction.
      let [position, matches] = await Promise.all([
        known ? undefined : this.position(stream),
        options.freshIds || optimistic ? [] : this.#rowsWithIds(stream, ids),
      ]);
      if (optimistic && !matchesExpected(expected, options.knownHead ?? position!.head)) {
        matches = await this.#rowsWithIds(stream, ids);
      }
      const head = options.knownHead ?? position!.head;
      const tail =
        options.knownTail !== undefined ? (options.knownTail ?? undefined) : position!.tail;
      const stored = new Map<string, AppendedEvent>();
      for (const row of matches) {
        if (row.stream === stream) {
          stored.set(row.id, { id: row.id, position: row.position, recordedAt: row.recordedAt });
        }
      }
      const plan = planAppend(stream, events, expected, head, (id) => stored.get(id));
      if (plan.kind === "duplicate")
        return { results: plan.results, head, events: [], projections: [] };
      if (events.length === 0) return { results: [], head, events: [], projections: [] };

      const recordedAt = Math.max(this.#now(), tail?.recordedAt ?? 0);
      const confirmed = events.map((event, index) => ({
        ...event,
        stream,
        position: head + index + 1,
        recordedAt,
      }));
      const projections = await this.#insert(stream, confirmed, tail, options.prefetched);
      return {
        results: confirmed.map((event) => ({ id: event.id, position: event.position, recordedAt })),
        head: head + confirmed.length,
        events: confirmed,
        projections,
      };
    }, `append to ${stream}`);
  }

  /**
   * Stores events already ordered by an authority (a sync node): idempotent by id (stored ids
   * are skipped), and the new ones must continue the stream without a gap, else `protocol`.
   * Projections move in the same transaction, as with `append`. For sync engines.
   */
  async insertConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<WriteResult> {
    this.#assertOpen();
    validateBatch(stream, events);
    return this.transaction(async () => {
      const ids = events.map((event) => event.id);
      const [{ head, tail }, matches] = await Promise.all([
        this.position(stream),
        this.#rowsWithIds(stream, ids),
      ]);
      const stored = new Set(matches.filter((row) => row.stream === stream).map((row) => row.id));
      const fresh = events.filter((event) => !stored.has(event.id));
      fresh.forEach((event, index) => {
        if (event.position !== head + index + 1) {
          throw new ChronicleError(
            "protocol",
            `${stream}: confirmed event ${event.id} is at position ${event.position}, expected ${head + index + 1}`,
            { details: { stream, head, position: event.position, eventId: event.id } },
          );
        }
      });
      const projections = fresh.length > 0 ? await this.#insert(stream, fresh, tail) : [];
      const results = events.map((event) => ({
        id: event.id,
        position: event.position,
        recordedAt: event.recordedAt,
      }));
      return { results, head: head + fresh.length, events: fresh, projections };
    }, `insert confirmed events into ${stream}`);
  }

  /**
   * Runs `work` in one read-write transaction over every table: everything it writes through
   * this store (events, projection records, snapshots) commits together or not at all.
   * Subscribers hear of the commit only after it is durable.
   */
  async transaction<T>(work: () => Promise<T>, action = "transaction"): Promise<T> {
    this.#assertOpen();
    // Already inside one of ours: join it directly (a Dexie sub-transaction costs a new zone
    // and a round of promise bookkeeping per call, for the same IndexedDB transaction).
    if (this.#inOurTransaction()) return work();
    try {
      return await this.db.transaction("rw", this.db.all, work);
    } catch (error) {
      throw toStorageError(error, action);
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<ConfirmedEvent[]> {
    this.#assertOpen();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return [];
    let last = Number.POSITIVE_INFINITY;
    if (options.toPosition !== undefined) last = Math.max(0, options.toPosition);
    if (options.untilTime !== undefined) {
      const row = await this.db.events
        .where("[stream+recordedAt]")
        .between([stream, Dexie.minKey], [stream, options.untilTime], true, true)
        .last();
      last = Math.min(last, row?.position ?? 0);
    }
    const backward = options.direction === "backward";
    const lower = backward ? 1 : Math.max(1, options.from ?? 1);
    const upper = Math.min(last, backward ? (options.from ?? last) : last);
    if (upper < lower) return [];
    let collection = this.db.events
      .where("[stream+position]")
      .between(
        [stream, lower],
        [stream, Number.isFinite(upper) ? upper : Dexie.maxKey],
        true,
        true,
      );
    if (backward) collection = collection.reverse();
    if (Number.isFinite(limit)) collection = collection.limit(limit);
    return (await this.#read(collection.toArray(), "readStream")).map(toEvent);
  }

  async head(stream: string): Promise<number> {
    this.#assertOpen();
    return (await this.#read(this.position(stream), "head")).head;
  }

  async readAll(options: ReadAllOptions = {}): Promise<LoggedEvent[]> {
    this.#assertOpen();
    let collection = this.db.events.where("seq").above(Math.max(0, options.after ?? 0));
    const prefix = options.streamPrefix;
    if (prefix !== undefined)
      collection = collection.filter((row) => row.stream.startsWith(prefix));
    if (options.limit !== undefined) collection = collection.limit(Math.max(0, options.limit));
    const rows = await this.#read(collection.toArray(), "readAll");
    return rows.map((row) => ({ checkpoint: row.seq, event: toEvent(row) }));
  }

  async lastCheckpoint(): Promise<number> {
    this.#assertOpen();
    return (await this.#read(this.position(undefined), "lastCheckpoint")).tail?.seq ?? 0;
  }

  subscribe(options: SubscribeOptions, handler: EventHandler): Subscription {
    this.#assertOpen();
    const { stream, streamPrefix } = options;
    const read =
      stream === undefined
        ? (after: number) =>
            this.readAll({
              after,
              limit: this.#pageSize,
              ...(streamPrefix === undefined ? {} : { streamPrefix }),
            })
        : async (after: number) =>
            (await this.readStream(stream, { from: after + 1, limit: this.#pageSize })).map(
              (event) => ({ checkpoint: event.position, event }),
            );
    const concerns = (streams: string[]) =>
      stream !== undefined
        ? streams.includes(stream)
        : streamPrefix === undefined || streams.some((s) => s.startsWith(streamPrefix));
    return createPullSubscription({
      read,
      listen: (onCommit) =>
        this.#channel.listen((notice) => {
          if (concerns(notice.streams)) onCommit();
        }),
      after: options.after ?? 0,
      handler,
      onError: options.onError,
    });
  }

  /**
   * Runs `listener` after every commit to the database, from any tab; returns the unsubscribe.
   * Notices of this store's own commits also carry the projection records they wrote.
   */
  onCommit(listener: (notice: CommitNotice) => void): () => void {
    return this.#channel.listen(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
    if (this.#ownsDb) this.db.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // Writes ordered events after the log's tail, keeps the stream head and the log tail in
  // `meta`, runs the append hook, and announces after the commit.
  async #insert(
    stream: string,
    events: readonly ConfirmedEvent[],
    tail: LogTail | undefined,
    prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>,
  ): Promise<readonly ProjectionRecord[]> {
    const lastSeq = tail?.seq ?? 0;
    const rows: EventRow[] = events.map((event, index) => ({ ...event, seq: lastSeq + index + 1 }));
    const last = events[events.length - 1]!;
    let recordedAt = tail?.recordedAt ?? 0;
    for (const event of events) recordedAt = Math.max(recordedAt, event.recordedAt);
    const nextTail: LogTail = { seq: lastSeq + rows.length, recordedAt };
    // Not awaited one after the other: IndexedDB runs a transaction's requests in the order
    // they were issued, so the hook's reads already see these rows, and a failed add aborts
    // the whole transaction anyway.
    const [, , projections = []] = await Promise.all([
      this.db.events.bulkAdd(rows),
      this.db.meta.bulkPut([
        { key: headKey(stream), value: { head: last.position, lastId: last.id } },
        { key: tailKey, value: nextTail },
      ]),
      this.#onAppend?.(stream, events, prefetched),
    ]);
    this.#announceOnCommit({ streams: [stream], records: projections });
    return projections;
  }

  // Events are keyed by id: one bulkGet answers for the whole batch. An id stored in another
  // stream cannot be stored again (it is the key), so that is refused clearly here.
  #inOurTransaction(): boolean {
    const current = Dexie.currentTransaction;
    return (
      current?.active === true &&
      current.db === this.db &&
      current.mode === "readwrite" &&
      this.db.all.every((table) => current.storeNames.includes(table.name))
    );
  }

  async #rowsWithIds(stream: string, ids: readonly string[]): Promise<EventRow[]> {
    if (ids.length === 0) return [];
    const rows = (await this.db.events.bulkGet([...ids])).filter(
      (row): row is EventRow => row !== undefined,
    );
    const elsewhere = rows.find((row) => row.stream !== stream);
    if (elsewhere) {
      throw new ChronicleError(
        "validation",
        `event id ${elsewhere.id} is already stored in stream ${elsewhere.stream}`,
        { details: { path: "id", id: elsewhere.id, stream: elsewhere.stream } },
      );
    }
    return rows;
  }

  /**
   * The stream's head (with the id of the event there) and the log's tail, in one request to
   * `meta`; joins the current transaction. Falls back to the events table for rows that are
   * missing (events written around the store).
   */
  async position(stream: string | undefined): Promise<StreamPosition> {
    const keys = stream === undefined ? [tailKey] : [tailKey, headKey(stream)];
    const [tailRow, headRow] = await this.db.meta.bulkGet(keys);
    let tail = tailRow?.value as LogTail | undefined;
    if (tailRow === undefined) {
      const row = await this.db.events.orderBy("seq").last();
      tail = row && { seq: row.seq, recordedAt: row.recordedAt };
    }
    if (stream === undefined) return { head: 0, lastId: undefined, tail };
    if (headRow !== undefined) {
      const { head, lastId } = headRow.value as { head: number; lastId?: string };
      return { head, lastId, tail };
    }
    const last = await this.db.events
      .where("[stream+position]")
      .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
      .last();
    return { head: last?.position ?? 0, lastId: last?.id, tail };
  }

  // Announce once the outermost transaction has committed: listeners then read durable data.
  #announceOnCommit(notice: CommitNotice): void {
    const transaction = Dexie.currentTransaction;
    const announce = () => {
      if (!this.#closed) this.#channel.announce(notice);
    };
    if (transaction?.idbtrans) transaction.idbtrans.addEventListener("complete", announce);
    else queueMicrotask(announce);
  }

  async #read<T>(promise: PromiseLike<T>, action: string): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      throw toStorageError(error, action);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ChronicleError("internal", "the event store is closed");
  }
}

function toEvent(row: EventRow): ConfirmedEvent {
  const { seq: _seq, ...event } = row;
  return event;
}

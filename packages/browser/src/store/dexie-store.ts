// DexieEventStore: core's EventStore over IndexedDB. Without a sync engine it is the local
// authority (it assigns positions and recordedAt, like MemoryEventStore); the append decision
// table is core's `planAppend`, so it agrees with every other store.
import {
  type AppendedEvent,
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type ConfirmedEvent,
  type EventHandler,
  type EventStore,
  historyIncomplete,
  type LoggedEvent,
  type NewEvent,
  type ProjectionRecord,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
  type Subscription,
} from "@chronicle/core";
import {
  createPullSubscription,
  matchesExpected,
  planAppend,
  validateBatch,
} from "@chronicle/core/store";
import Dexie, { type DexieOptions } from "dexie";
import { type CommitChannel, type CommitNotice, createCommitChannel } from "./commit-channel.ts";
import { readFloor } from "./floor.ts";
import {
  type LogTail,
  readStreamRows,
  rowsWithIds,
  type StreamPosition,
  streamHead,
  streamPosition,
  toEvent,
} from "./log-queries.ts";
import { currentWriteTransaction, writeMany } from "./raw-requests.ts";
import { ChronicleDb } from "./schema.ts";
import { allRequests, isKeyConflict, toStorageError } from "./storage-errors.ts";
import type {
  AppendHook,
  DexieEventStoreOptions,
  WriteOptions,
  WriteResult,
} from "./store-types.ts";
import { canWriteAt, rowsAfter, type WriteAtOutcome, writeAt } from "./write-at.ts";

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
  /** The Dexie database it writes (its own, or the one given as `db`). */
  readonly db: ChronicleDb;
  readonly #ownsDb: boolean;
  readonly #now: () => number;
  readonly #pageSize: number;
  readonly #channel: CommitChannel;
  #onAppend: AppendHook | undefined;
  #closed = false;
  // The log's tail after this store's last committed append, while no other context has
  // committed since (as far as the commit channel tells): a hint for speculative writes, which
  // must verify it (see tailHint).
  #tailHint: LogTail | undefined;
  // The tail each open transaction of ours leaves, once it commits (see transaction()).
  readonly #tails = new WeakMap<object, LogTail>();

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
    this.#channel.listen((notice) => {
      if (notice.remote) this.#tailHint = undefined;
    });
    // The browser closed the connection (the site's data was cleared, or the database deleted):
    // Dexie reopens it on the next call, possibly empty, so nothing known about it holds.
    this.db.on("close", () => {
      this.#tailHint = undefined;
    });
  }

  /**
   * The log's tail as this store last committed it, unless another tab or worker announced a
   * commit since. Only a hint: another context may have committed without the notice having
   * arrived yet (or with broadcast off), so a writer that uses it must check it against
   * `position()` in its own transaction before that commits.
   *
   * @internal The worker engine's speculative execute (execute-local.ts); not for apps.
   */
  get tailHint(): LogTail | undefined {
    return this.#tailHint;
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
    // Optimistic first: events are keyed by [stream+id], so IndexedDB itself refuses a batch
    // holding an id stored in this stream (the whole transaction aborts). Only then, or when the expected version does
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
      let [position, matches] = await allRequests([
        known ? undefined : this.position(stream),
        options.freshIds || optimistic ? [] : rowsWithIds(this.db, stream, ids),
      ]);
      if (optimistic && !matchesExpected(expected, options.knownHead ?? position!.head)) {
        matches = await rowsWithIds(this.db, stream, ids);
      }
      const head = options.knownHead ?? position!.head;
      const tail =
        options.knownTail !== undefined ? (options.knownTail ?? undefined) : position!.tail;
      const stored = new Map<string, AppendedEvent>();
      for (const row of matches) {
        stored.set(row.id, { id: row.id, position: row.position, recordedAt: row.recordedAt });
      }
      const plan = planAppend(stream, events, expected, head, (id) => stored.get(id));
      if (plan.kind === "duplicate")
        return { results: plan.results, head, events: [], projections: [] };
      if (events.length === 0) return { results: [], head, events: [], projections: [] };

      const confirmed = this.confirmAt(stream, events, head, tail);
      const projections = await this.#insert(stream, confirmed, tail, options.prefetched);
      return {
        results: confirmed.map(({ id, position, recordedAt }) => ({ id, position, recordedAt })),
        head: head + confirmed.length,
        events: confirmed,
        projections,
      };
    }, `append to ${stream}`);
  }

  /**
   * The events as this store confirms them after the stream's `head` and the log's `tail`
   * (positions, and a recordedAt that never goes back), without writing anything: what
   * {@link writeAt} takes.
   *
   * @internal The worker engine's speculative execute (execute-local.ts); not for apps.
   */
  confirmAt(
    stream: string,
    events: readonly NewEvent[],
    head: number,
    tail: LogTail | undefined,
  ): ConfirmedEvent[] {
    const recordedAt = Math.max(this.#now(), tail?.recordedAt ?? 0);
    return events.map((event, index) => ({
      ...event,
      stream,
      position: head + index + 1,
      recordedAt,
    }));
  }

  /**
   * Whether {@link writeAt} can run here: the database has the unique indexes it relies on
   * (schema version 2) and neither table it writes has Dexie hooks, which it would bypass.
   *
   * @internal The worker engine's speculative execute (execute-local.ts); not for apps.
   */
  get canWriteAt(): boolean {
    return canWriteAt(this.db);
  }

  /**
   * Writes events confirmed by {@link confirmAt} after a head and tail that were not read, in
   * a transaction of its own over `events` and `projections`, committed as soon as its requests
   * are issued; see write-at.ts for `project`, `onIssued` and the outcomes (`"stale"` when
   * another tab or worker wrote after that head or tail: nothing is stored). Announces the
   * commit like every write.
   *
   * @internal The worker engine's speculative execute (execute-local.ts); not for apps.
   */
  writeAt(
    stream: string,
    events: readonly ConfirmedEvent[],
    tail: LogTail | undefined,
    project: () => readonly ProjectionRecord[] | undefined,
    onIssued?: (projections: readonly ProjectionRecord[]) => void,
  ): Promise<WriteAtOutcome> {
    this.#assertOpen();
    return writeAt(this.db, stream, events, tail, {
      project,
      ...(onIssued ? { onIssued } : {}),
      committed: (projections, nextTail) => {
        this.#tailHint = nextTail;
        if (!this.#closed) this.#channel.announce({ streams: [stream], records: projections });
      },
    });
  }

  /**
   * Stores events already ordered by an authority (a sync node): idempotent by id (stored ids
   * are skipped), and the new ones must continue the stream without a gap, else `protocol`.
   * Projections move in the same transaction, as with `append`. For sync engines.
   */
  async insertConfirmed(
    stream: string,
    events: readonly ConfirmedEvent[],
    /** A log started after a floor (DexieLocalLog.startConfirmedAt) continues after it. */
    floor = 0,
  ): Promise<WriteResult> {
    this.#assertOpen();
    validateBatch(stream, events);
    return this.transaction(async () => {
      const { head: storedHead, tail } = await this.position(stream);
      const head = Math.max(storedHead, floor);
      // Only an event at or below the head can be stored already: a catch-up past the head
      // looks nothing up (an id stored lower down is refused by the rows' key, below).
      const below = events.filter((event) => event.position <= head).map((event) => event.id);
      const matches = await rowsWithIds(this.db, stream, below);
      const stored = new Set(matches.map((row) => row.id));
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
      const projections =
        fresh.length > 0
          ? await this.#insert(stream, fresh, tail).catch((error: unknown) => {
              if (!isKeyConflict(error)) throw error;
              throw new ChronicleError(
                "protocol",
                `${stream}: a confirmed event after position ${head} has the id of an event stored at or below it`,
                { details: { stream, head } },
              );
            })
          : [];
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
    let current: object | undefined;
    try {
      // (An async function: Dexie keeps native awaits in its transaction zone only for those.)
      const result = await this.db.transaction("rw", this.db.all, async () => {
        current = Dexie.currentTransaction;
        return await work();
      });
      // Here rather than in a "complete" listener: those run after Dexie's, whose promise
      // resumes the caller first, and the caller's next write should see the tail.
      const tail = current && this.#tails.get(current);
      if (tail) this.#tailHint = tail;
      return result;
    } catch (error) {
      throw toStorageError(error, action);
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<ConfirmedEvent[]> {
    this.#assertOpen();
    const rows = await this.#read(readStreamRows(this.db, stream, options), "readStream");
    if (options.direction !== "backward") await this.#checkFloor(stream, options, rows);
    return rows.map(toEvent);
  }

  /**
   * Back-fill (DexieLocalLog.prependConfirmed): stores events below a stream's floor, after the
   * log's tail in commit order, without moving projections (they start at the floor or later).
   */
  async insertBackfill(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    this.#assertOpen();
    validateBatch(stream, events);
    await this.transaction(async () => {
      const { tail } = await this.position(undefined);
      const { rows, nextTail } = rowsAfter(events, tail);
      await this.db.events.bulkAdd(rows);
      this.#announceOnCommit({ streams: [stream], records: [] }, nextTail);
    }, `back-fill ${stream}`);
  }

  // A forward read that starts below a stream's floor (a log started from the node's snapshots)
  // would fold a wrong state from what is missing: say so (docs/architecture.md, "The local
  // log"). Positions are gapless from the floor, so only a first row past `from`, or no row at
  // all, can mean it; the floor is read only then.
  async #checkFloor(
    stream: string,
    options: ReadStreamOptions,
    rows: readonly { position: number }[],
  ): Promise<void> {
    const from = Math.max(1, options.from ?? 1);
    const first = rows[0]?.position;
    if (first !== undefined) {
      if (first > from) throw historyIncomplete(stream, first - 1, from - 1);
      return;
    }
    if (options.toPosition !== undefined && options.toPosition < from) return;
    const floor = await this.#read(readFloor(this.db, stream), "readStream");
    if (floor >= from) throw historyIncomplete(stream, floor, from - 1);
  }

  async head(stream: string): Promise<number> {
    this.#assertOpen();
    return this.#read(streamHead(this.db, stream), "head");
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

  /**
   * Announces a commit made around the store's own writes (pending events, a reset) to every
   * listener here and in other tabs. Call it after the transaction committed.
   */
  announce(notice: CommitNotice): void {
    if (!this.#closed) this.#channel.announce(notice);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
    if (this.#ownsDb) this.db.close();
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  // Writes ordered events after the log's tail, runs the append hook, and announces after the
  // commit.
  async #insert(
    stream: string,
    events: readonly ConfirmedEvent[],
    tail: LogTail | undefined,
    prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>,
  ): Promise<readonly ProjectionRecord[]> {
    const { rows, nextTail } = rowsAfter(events, tail);
    // Not awaited one after the other: IndexedDB runs a transaction's requests in the order
    // they were issued, so the hook's reads already see these rows, and a failed add aborts
    // the whole transaction anyway.
    // The stream head and the log tail are the last entries of the events' indexes: nothing
    // but the rows is written. Raw requests on the transaction when there is one (always,
    // through `transaction`): see raw-requests.ts for what Dexie's table API costs here.
    const transaction = currentWriteTransaction(this.db, ["events"]);
    const [, projections = []] = await allRequests([
      transaction ? writeMany(transaction, "events", rows, "add") : this.db.events.bulkAdd(rows),
      this.#onAppend?.(stream, events, prefetched),
    ]);
    this.#announceOnCommit({ streams: [stream], records: projections }, nextTail);
    return projections;
  }

  #inOurTransaction(): boolean {
    const current = Dexie.currentTransaction;
    return (
      current?.active === true &&
      current.db === this.db &&
      current.mode === "readwrite" &&
      this.db.all.every((table) => current.storeNames.includes(table.name))
    );
  }

  /**
   * The stream's head (with the id of the event there) and the log's tail, from the events'
   * indexes; joins the current transaction.
   */
  position(stream: string | undefined): Promise<StreamPosition> {
    return streamPosition(this.db, stream);
  }

  // Announce once the outermost transaction has committed: listeners then read durable data.
  #announceOnCommit(notice: CommitNotice, tail: LogTail): void {
    const transaction = Dexie.currentTransaction;
    const announce = () => {
      if (!this.#closed) this.#channel.announce(notice);
    };
    if (transaction?.idbtrans) {
      this.#tails.set(transaction, tail);
      transaction.idbtrans.addEventListener("complete", announce);
    } else queueMicrotask(announce);
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

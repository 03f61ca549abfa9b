// internal: not exported (the store re-exports its types). The queries of the event log, as
// functions of the database so the store class stays about writing. Called inside a Dexie
// transaction they join it.
import type { ConfirmedEvent, ReadStreamOptions } from "@chronicle/core";
import Dexie from "dexie";
import { currentWriteTransaction, getMany, lastInIndex } from "./raw-requests.ts";
import type { ChronicleDb, EventRow, MetaRow } from "./schema.ts";

/** The last stored event's commit sequence and recordedAt (what an append continues from). */
export interface LogTail {
  /** The last commit sequence (the global checkpoint). */
  seq: number;
  /** Its recordedAt: the next event's is never earlier. */
  recordedAt: number;
}

/** Where a stream and the log end, as kept in `meta` by every write. */
export interface StreamPosition {
  /** The stream's head position (0 when it has no events). */
  head: number;
  /** The id of the event at `head` (undefined for an empty stream). */
  lastId: string | undefined;
  /** The log's tail across all streams (undefined for an empty log). */
  tail: LogTail | undefined;
}

/**
 * `meta` key of the log tail's floor: written only when events are deleted (an epoch reset), so
 * a commit sequence is never reused. Otherwise the tail and the heads come from the events'
 * indexes: a write stores the events and nothing else about them.
 */
export const tailKey = "tail";

/** A stored row as the envelope it holds. */
export function toEvent(row: EventRow): ConfirmedEvent {
  const { seq: _seq, ...event } = row;
  return event;
}

/**
 * The stream's head (with the id of the event there) and the log's tail, from the last entries of
 * the events' `[stream+position]` and `seq` indexes and the tail's floor (requests issued together).
 */
export async function streamPosition(
  db: ChronicleDb,
  stream: string | undefined,
): Promise<StreamPosition> {
  const transaction = currentWriteTransaction(db, ["events", "meta"]);
  const [lastLogged, floorRow, lastOfStream] = transaction
    ? await Dexie.Promise.all([
        lastInIndex<EventRow>(transaction, "seq", null),
        getMany<MetaRow>(transaction, "meta", [tailKey]).then(([row]) => row),
        stream === undefined
          ? undefined
          : lastInIndex<EventRow>(
              transaction,
              "[stream+position]",
              keyRangeOf(db).bound([stream, -Infinity], [stream, Infinity]),
            ),
      ])
    : await Dexie.Promise.all([
        db.events.orderBy("seq").last(),
        db.meta.get(tailKey),
        stream === undefined
          ? undefined
          : db.events
              .where("[stream+position]")
              .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
              .last(),
      ]);
  const floor = floorRow?.value as LogTail | undefined;
  let tail: LogTail | undefined = lastLogged && {
    seq: lastLogged.seq,
    recordedAt: lastLogged.recordedAt,
  };
  if (floor && (!tail || floor.seq > tail.seq)) {
    tail = { seq: floor.seq, recordedAt: Math.max(floor.recordedAt, tail?.recordedAt ?? 0) };
  }
  if (stream === undefined) return { head: 0, lastId: undefined, tail };
  return { head: lastOfStream?.position ?? 0, lastId: lastOfStream?.id, tail };
}

/** A stream's head alone: the last entry of the `[stream+position]` index (one request). */
export async function streamHead(db: ChronicleDb, stream: string): Promise<number> {
  const last = await db.events
    .where("[stream+position]")
    .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
    .last();
  return last?.position ?? 0;
}

/** The IDBKeyRange the database was opened with (fake-indexeddb's in Node tests). */
export function keyRangeOf(db: ChronicleDb): typeof IDBKeyRange {
  const deps = (db as unknown as { _deps?: { IDBKeyRange?: typeof IDBKeyRange } })._deps;
  return deps?.IDBKeyRange ?? globalThis.IDBKeyRange;
}

/**
 * The stored rows of a batch's ids in `stream`. Events are keyed by `[stream+id]`, so one
 * bulkGet answers for the whole batch; the same id in another stream is another event.
 */
export async function rowsWithIds(
  db: ChronicleDb,
  stream: string,
  ids: readonly string[],
): Promise<EventRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.events.bulkGet(ids.map((id): [string, string] => [stream, id]));
  return rows.filter((row): row is EventRow => row !== undefined);
}

/** Rows of one stream per ReadStreamOptions (core's semantics, see sliceStream). */
export async function readStreamRows(
  db: ChronicleDb,
  stream: string,
  options: ReadStreamOptions,
): Promise<EventRow[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return [];
  let last = Number.POSITIVE_INFINITY;
  if (options.toPosition !== undefined) last = Math.max(0, options.toPosition);
  if (options.untilTime !== undefined) {
    // recordedAt never decreases along a stream: the last event at or before the time ends it.
    const row = await db.events
      .where("[stream+recordedAt]")
      .between([stream, Dexie.minKey], [stream, options.untilTime], true, true)
      .last();
    last = Math.min(last, row?.position ?? 0);
  }
  const backward = options.direction === "backward";
  const lower = backward ? 1 : Math.max(1, options.from ?? 1);
  const upper = Math.min(last, backward ? (options.from ?? last) : last);
  if (upper < lower) return [];
  let collection = db.events
    .where("[stream+position]")
    .between([stream, lower], [stream, Number.isFinite(upper) ? upper : Dexie.maxKey], true, true);
  if (backward) collection = collection.reverse();
  if (Number.isFinite(limit)) collection = collection.limit(limit);
  return collection.toArray();
}

// internal: not exported (the store re-exports its types). The queries of the event log, as
// functions of the database so the store class stays about writing. Called inside a Dexie
// transaction they join it.
import { ChronicleError, type ConfirmedEvent, type ReadStreamOptions } from "@chronicle/core";
import Dexie from "dexie";
import { currentWriteTransaction, getMany } from "./raw-requests.ts";
import type { ChronicleDb, EventRow, MetaRow } from "./schema.ts";

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
export const tailKey = "tail";

/** A stored row as the envelope it holds. */
export function toEvent(row: EventRow): ConfirmedEvent {
  const { seq: _seq, ...event } = row;
  return event;
}

/**
 * The stream's head (with the id of the event there) and the log's tail, in one request to
 * `meta`. Falls back to the events table for rows that are missing (events written around the
 * store, e.g. by a test seeding the table).
 */
export async function streamPosition(
  db: ChronicleDb,
  stream: string | undefined,
): Promise<StreamPosition> {
  const keys = stream === undefined ? [tailKey] : [tailKey, headKey(stream)];
  const transaction = currentWriteTransaction(db, ["meta"]);
  const [tailRow, headRow] = transaction
    ? await getMany<MetaRow>(transaction, "meta", keys)
    : await db.meta.bulkGet(keys);
  let tail = tailRow?.value as LogTail | undefined;
  if (tailRow === undefined) {
    const row = await db.events.orderBy("seq").last();
    tail = row && { seq: row.seq, recordedAt: row.recordedAt };
  }
  if (stream === undefined) return { head: 0, lastId: undefined, tail };
  if (headRow !== undefined) {
    const { head, lastId } = headRow.value as { head: number; lastId?: string };
    return { head, lastId, tail };
  }
  const last = await db.events
    .where("[stream+position]")
    .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
    .last();
  return { head: last?.position ?? 0, lastId: last?.id, tail };
}

/**
 * The stored rows of a batch's ids. Events are keyed by id, so one bulkGet answers for the
 * whole batch; an id stored in another stream cannot be stored again (it is the key), which is
 * refused clearly here with `validation`.
 */
export async function rowsWithIds(
  db: ChronicleDb,
  stream: string,
  ids: readonly string[],
): Promise<EventRow[]> {
  if (ids.length === 0) return [];
  const rows = (await db.events.bulkGet([...ids])).filter(
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

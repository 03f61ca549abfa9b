// internal: not exported (DexieEventStore.writeAt and canWriteAt are its public face). The
// known-state write path: events confirmed after a head and tail the writer remembers, written
// without reading anything. Invariants:
// 1. Nothing is read: the unique `[stream+position]` and `seq` indexes are what refuse a write
//    made on a stale head or tail (another tab or worker wrote meanwhile); the whole transaction
//    aborts and nothing is stored (`"stale"`).
// 2. The events and the projection records they move are written in one transaction over
//    `events` and `projections`, committed as soon as the requests are issued (no round trip
//    waits for their results).
// 3. Dexie's table API and hooks are bypassed (raw IndexedDB requests): it runs only where no
//    table it writes has hooks (canWriteAt).
import type { ConfirmedEvent, ProjectionRecord } from "@chronicle/core";
import type { LogTail } from "./log-queries.ts";
import { withoutHooks } from "./raw-requests.ts";
import type { ChronicleDb, EventRow } from "./schema.ts";
import { isKeyConflict, toStorageError } from "./storage-errors.ts";

/** What writeAt did: written (with the records), or nothing stored and why. */
export type WriteAtOutcome =
  | { projections: readonly ProjectionRecord[] }
  /** Another writer took the head or tail it was given. */
  | "stale"
  /** No transaction could be opened (the database is closing): take the ordinary path. */
  | "unavailable"
  /** `project` returned undefined. */
  | "declined";

export interface WriteAtHooks {
  /**
   * Runs once the events' writes are issued, in the transaction: returns the projection records
   * the events move (written with them), or undefined to write nothing (`"declined"`).
   */
  project: () => readonly ProjectionRecord[] | undefined;
  /** Runs right after the commit was requested (the records are final; the commit may fail). */
  onIssued?: (projections: readonly ProjectionRecord[]) => void;
  /** Runs once the transaction committed, with the log's tail it left. */
  committed: (projections: readonly ProjectionRecord[], nextTail: LogTail) => void;
}

/**
 * Whether writeAt can run on `db`: it has the unique indexes it relies on (schema version 2)
 * and neither table it writes has Dexie hooks, which it would bypass.
 */
export function canWriteAt(db: ChronicleDb): boolean {
  const indexes = db.events.schema.idxByName;
  return (
    indexes.seq?.unique === true &&
    indexes["[stream+position]"]?.unique === true &&
    withoutHooks(db, ["events", "projections"])
  );
}

/**
 * Writes `events` (confirmed after a head and `tail` that were not read) and the records
 * `project` returns, in one transaction of their own. Failures other than a stale head or tail
 * reject with a coded error (e.g. `quota`), nothing stored.
 */
export function writeAt(
  db: ChronicleDb,
  stream: string,
  events: readonly ConfirmedEvent[],
  tail: LogTail | undefined,
  hooks: WriteAtHooks,
): Promise<WriteAtOutcome> {
  const action = `append to ${stream}`;
  const { rows, nextTail } = rowsAfter(events, tail);
  let transaction: IDBTransaction;
  try {
    transaction = db.backendDB().transaction(["events", "projections"], "readwrite");
  } catch {
    return Promise.resolve("unavailable");
  }
  return new Promise((resolve, reject) => {
    let projections: readonly ProjectionRecord[] = [];
    let declined = false;
    transaction.oncomplete = () => {
      hooks.committed(projections, nextTail);
      resolve({ projections });
    };
    transaction.onabort = () => {
      const error = transaction.error ?? new DOMException("aborted", "AbortError");
      if (declined) resolve("declined");
      else if (isKeyConflict(error)) resolve("stale");
      else reject(toStorageError(error, action));
    };
    try {
      const eventStore = transaction.objectStore("events");
      for (const row of rows) eventStore.add(row);
      const records = hooks.project();
      if (records === undefined) {
        declined = true;
        transaction.abort();
        return;
      }
      projections = records;
      const projectionStore = transaction.objectStore("projections");
      for (const record of records) projectionStore.put(record);
      // Without waiting for the requests' results: the browser commits once they succeed.
      if (typeof transaction.commit === "function") transaction.commit();
    } catch (error) {
      // A value that cannot be cloned, or a refused request: nothing may commit.
      transaction.onabort = null;
      try {
        transaction.abort();
      } catch {
        // Already finished: it cannot have committed, a request having failed.
      }
      reject(toStorageError(error, action));
      return;
    }
    hooks.onIssued?.(projections);
  });
}

/** The rows of events stored after the log's `tail`, and the tail they leave. */
export function rowsAfter(
  events: readonly ConfirmedEvent[],
  tail: LogTail | undefined,
): { rows: EventRow[]; nextTail: LogTail } {
  const lastSeq = tail?.seq ?? 0;
  const rows: EventRow[] = events.map((event, index) => ({ ...event, seq: lastSeq + index + 1 }));
  let recordedAt = tail?.recordedAt ?? 0;
  for (const event of events) recordedAt = Math.max(recordedAt, event.recordedAt);
  return { rows, nextTail: { seq: lastSeq + rows.length, recordedAt } };
}

// internal: not exported. Stream stamps (schema.ts, invariant 5). A stamp is
// `<owner>/<random>`: the owner is the engine whose kept views may write under it without
// replacing it (`-`: none). Any other writer of a synced stream's pending rows, confirmed events
// or sync state replaces the stream's stamp in its transaction (`restamp`). A writer that decided
// on what it saw earlier makes its commit depend on the stamp it saw, without reading it first
// (`checkStamp`): the owner rewrites the same row, anyone else swaps it for a stamp of its own.

import { keyRangeOf } from "./log-queries.ts";
import { currentWriteTransaction } from "./raw-requests.ts";
import type { ChronicleDb, StampRow } from "./schema.ts";

/** The owner of stamps written by a log that no engine's kept views write under. */
export const noOwner = "-";

/** A fresh stamp of `owner`: random, so no stream ever gets an earlier stamp back. */
export const newStamp = (owner: string): string => `${owner}/${crypto.randomUUID()}`;

/** The owner a stamp names. */
export const ownerOf = (stamp: string): string => stamp.slice(0, stamp.lastIndexOf("/"));

/** Every key of the stream's stamp rows (`[stream, stamp]` for any string stamp). */
export const stampRange = (keyRange: typeof IDBKeyRange, stream: string): IDBKeyRange =>
  keyRange.bound([stream], [stream, []]);

/**
 * Replaces the stream's stamp with a new one of `owner`, inside the caller's Dexie read-write
 * transaction (which must cover `stamps`); returns the new stamp. The requests are issued, not
 * awaited, on the raw path: a failure aborts the transaction, as a failed write of the caller's
 * would.
 */
export async function restamp(db: ChronicleDb, stream: string, owner = noOwner): Promise<string> {
  const stamp = newStamp(owner);
  if (!db.stamps) return stamp; // a schema before version 6 (upgrade tests)
  const row: StampRow = { stream, stamp };
  const transaction = currentWriteTransaction(db, ["stamps"]);
  if (transaction) {
    const stamps = transaction.objectStore("stamps");
    stamps.delete(stampRange(keyRangeOf(db), stream));
    stamps.add(row);
    return stamp;
  }
  await db.stamps.where("stream").equals(stream).delete();
  await db.stamps.add(row);
  return stamp;
}

/** The stream's stamp as the caller's transaction sees it (undefined: never stamped). */
export async function readStamp(db: ChronicleDb, stream: string): Promise<string | undefined> {
  if (!db.stamps) return undefined; // a schema before version 6 (upgrade tests)
  return (await db.stamps.where("stream").equals(stream).first())?.stamp;
}

/** Whether `owner` can check `seen` without reading (see {@link checkStamp}). */
export function mayCheck(seen: string | undefined, owner: string): boolean {
  const held = seen === undefined ? noOwner : ownerOf(seen);
  return held === owner || held === noOwner;
}

/**
 * Issues, on a raw read-write transaction over `stamps`, the request that fails (with a
 * ConstraintError, aborting the transaction) unless the stream's stamp is still `seen`
 * (undefined: never stamped), and returns it with the stamp the stream has if it succeeds:
 * - `seen` is `owner`'s: the same row written again (only `owner` writes without replacing it,
 *   and its views know what it wrote); the unique `stream` index refuses it if another row
 *   replaced it;
 * - `seen` is no engine's, or none: swapped for a new stamp of `owner` (delete the row seen, add
 *   the new one: the add breaks the unique index if another row replaced it);
 * - `seen` is another engine's: undefined, nothing issued (that engine may have written under it
 *   without replacing it, so what was seen may not be all there is).
 */
export function checkStamp(
  transaction: IDBTransaction,
  stream: string,
  seen: string | undefined,
  owner: string,
): { request: IDBRequest; stamp: string } | undefined {
  if (!mayCheck(seen, owner)) return undefined;
  const stamps = transaction.objectStore("stamps");
  if (seen !== undefined && ownerOf(seen) === owner) {
    const row: StampRow = { stream, stamp: seen };
    return { request: stamps.put(row), stamp: seen };
  }
  if (seen !== undefined) stamps.delete([stream, seen]);
  const row: StampRow = { stream, stamp: newStamp(owner) };
  return { request: stamps.add(row), stamp: row.stamp };
}

// internal: not exported. IndexedDB requests issued straight on the IDBTransaction of the
// current Dexie transaction, for the hot path of a write (events, stream head, log tail,
// projection records). Measured in Chromium (write-to-render bench): a call through Dexie's table
// API costs ~0.2-0.3 ms of main-thread-of-the-worker time per call before the request is even
// issued, a raw request ~0.05-0.1 ms. The requests join the same transaction, so atomicity is
// unchanged; a failed request aborts the whole transaction (no preventDefault), as the Dexie
// calls did. Results resolve as Dexie promises, so code awaiting them stays in Dexie's
// transaction zone and later Dexie calls still join the transaction. Tables with Dexie hooks
// (`table.hook(...)`) keep going through Dexie, so the hooks still run; DBCore middlewares
// added with `db.use` are not called for these requests.
import Dexie from "dexie";
import type { ChronicleDb } from "./schema.ts";

/**
 * The IDBTransaction of the current Dexie read-write transaction on `db`, when the caller is
 * inside one that covers `tables` and none of them has hooks; undefined otherwise (callers then
 * use Dexie's API).
 */
export function currentWriteTransaction(
  db: ChronicleDb,
  tables: readonly string[],
): IDBTransaction | undefined {
  const current = Dexie.currentTransaction;
  if (current?.active !== true || current.db !== db || current.mode !== "readwrite") return;
  const idb = current.idbtrans as IDBTransaction | undefined;
  if (!idb || !tables.every((name) => current.storeNames.includes(name))) return;
  return withoutHooks(db, tables) ? idb : undefined;
}

/** True when none of `tables` has Dexie hooks (which raw requests would bypass). */
export function withoutHooks(db: ChronicleDb, tables: readonly string[]): boolean {
  return tables.every((name) => {
    const { hook } = db.table(name);
    return (
      hook.creating.subscribers.length === 0 &&
      hook.reading.subscribers.length === 0 &&
      hook.updating.subscribers.length === 0 &&
      hook.deleting.subscribers.length === 0
    );
  });
}

/** The request's result, as a Dexie promise (keeps the transaction zone). */
export function resultOf<T>(request: IDBRequest<T>): Promise<T> {
  return new Dexie.Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Gets several keys of one store (issued together; resolved in key order). */
export function getMany<T>(
  transaction: IDBTransaction,
  store: string,
  keys: readonly IDBValidKey[],
): Promise<Array<T | undefined>> {
  const objectStore = transaction.objectStore(store);
  return Dexie.Promise.all(keys.map((key) => resultOf(objectStore.get(key) as IDBRequest<T>)));
}

/**
 * Issues puts (or adds) of several values into one store; resolves when all succeeded. A
 * failure rejects and aborts the transaction.
 */
export function writeMany(
  transaction: IDBTransaction,
  store: string,
  values: readonly unknown[],
  mode: "add" | "put" = "put",
): Promise<void> {
  const objectStore = transaction.objectStore(store);
  // One promise for the lot, not one per request (10,000 rows: ~0.7 s of promise bookkeeping
  // and garbage in Chromium), and one error listener, on the transaction (a request's error
  // bubbles to it; a handler set on each request cost ~25 us a row): the requests of a
  // transaction succeed in the order they were issued, so the last one's success means all
  // succeeded. The first failure of ours rejects (the requests after it fail with "aborted"
  // and change nothing: a promise settles once).
  return new Dexie.Promise<void>((resolve, reject) => {
    if (values.length === 0) return resolve();
    const ours = new Set<EventTarget>();
    const failed = (event: Event) => {
      const request = event.target as IDBRequest;
      if (!ours.has(request)) return;
      transaction.removeEventListener("error", failed);
      reject(request.error);
    };
    transaction.addEventListener("error", failed);
    let last: IDBRequest | undefined;
    for (const value of values) {
      last = mode === "add" ? objectStore.add(value) : objectStore.put(value);
      ours.add(last);
    }
    (last as IDBRequest).onsuccess = () => {
      transaction.removeEventListener("error", failed);
      resolve();
    };
  });
}

/** The value of the last entry of an index of `events` within `range` (undefined when none). */
export function lastInIndex<T>(
  transaction: IDBTransaction,
  index: string,
  range: IDBKeyRange | null,
): Promise<T | undefined> {
  const request = transaction.objectStore("events").index(index).openCursor(range, "prev");
  return resultOf(request).then((cursor) => (cursor ? (cursor.value as T) : undefined));
}

// internal: not exported. The raw IndexedDB baseline of the browser benchmarks: an object store
// with the same key path and indexes as the engine's `events` table, written without Dexie.

/** Opens (creating) a raw database with the engine's `events` store and indexes. */
export function openRaw(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      // Keyed as the engine keys events (schema version 4): [stream+id].
      const store = request.result.createObjectStore("events", { keyPath: ["stream", "id"] });
      store.createIndex("seq", "seq", { unique: true });
      store.createIndex("stream_position", ["stream", "position"], { unique: true });
      store.createIndex("stream_recordedAt", ["stream", "recordedAt"]);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Puts rows into `events` in one transaction; resolves when it has committed. With `commit`,
 * the transaction is committed explicitly once the puts are issued (as the engine's writes are).
 */
export function rawPut(
  db: IDBDatabase,
  rows: readonly object[],
  { commit = false }: { commit?: boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction("events", "readwrite");
    const store = tx.objectStore("events");
    for (const row of rows) store.put(row);
    if (commit) tx.commit();
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

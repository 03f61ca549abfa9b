// internal: not exported. writeMany's cases, run on fake-indexeddb (raw-requests.test.ts) and on
// Chromium's IndexedDB (raw-requests.browser.test.ts). A batch of writes is one promise and one
// listener, not one per row (10,000 rows: ~0.7 s of promise bookkeeping in Chromium), with the
// same outcomes.
import { describe, expect, it } from "vitest";
import { writeMany } from "./raw-requests.ts";

let databases = 0;

export function writeManyCases(label: string, factory: () => IDBFactory): void {
  async function openRows(): Promise<IDBDatabase> {
    const request = factory().open(`raw-requests-${Date.now()}-${++databases}`, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("rows", { keyPath: "id" });
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  const rows = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ id: from + i, title: `Row ${from + i}` }));

  const count = (db: IDBDatabase) =>
    new Promise<number>((resolve) => {
      const request = db.transaction("rows").objectStore("rows").count();
      request.onsuccess = () => resolve(request.result);
    });

  describe(`writeMany (${label})`, () => {
    it("stores every row and listens to one request, however many rows", async () => {
      const db = await openRows();
      const transaction = db.transaction("rows", "readwrite");
      const store = transaction.objectStore("rows");
      const issued: IDBRequest[] = [];
      const add = store.add.bind(store);
      store.add = (value: unknown, key?: IDBValidKey) => {
        const request = add(value, key);
        issued.push(request);
        return request;
      };
      transaction.objectStore = () => store;
      await writeMany(transaction, "rows", rows(1, 1_000), "add");
      expect(issued).toHaveLength(1_000);
      // One request has a handler; none of the others does (their outcome is the transaction's).
      expect(issued.filter((request) => request.onsuccess !== null)).toHaveLength(1);
      expect(issued.filter((request) => request.onerror !== null)).toHaveLength(0);
      await new Promise((resolve) => {
        transaction.oncomplete = resolve;
      });
      expect(await count(db)).toBe(1_000);
    });

    it("rejects with the first failure, and the transaction stores none of the rows", async () => {
      const db = await openRows();
      const first = db.transaction("rows", "readwrite");
      await writeMany(first, "rows", rows(1, 10), "add");
      const second = db.transaction("rows", "readwrite");
      const aborted = new Promise((resolve) => {
        second.onabort = resolve;
      });
      // Rows 11-15 are new, row 10 is taken: the add of row 10 fails.
      await expect(
        writeMany(second, "rows", [...rows(11, 5), ...rows(10, 3)], "add"),
      ).rejects.toMatchObject({
        name: "ConstraintError",
      });
      await aborted;
      expect(await count(db)).toBe(10);
    });

    it("resolves at once when there is nothing to write", async () => {
      const db = await openRows();
      await writeMany(db.transaction("rows", "readwrite"), "rows", []);
    });
  });
}

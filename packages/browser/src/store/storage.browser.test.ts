// Browser tier: storage realities in Chromium: a quota failure inside a transaction (on both
// write paths: an append, and a write on a known state), and a database held open by an "old
// tab" at an older schema version.
import { createEnvelope, isChronicleError } from "@chronicle/core";
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { describe, expect, it } from "vitest";
import { boardWorker, connect } from "../__fixtures__/connect.ts";
import { DexieEventStore } from "./dexie-store.ts";

const run = crypto.randomUUID().slice(0, 8);

/** Chromium's Storage Buckets API (not in TypeScript's DOM lib yet). */
interface StorageBucket {
  readonly indexedDB: IDBFactory;
}
interface StorageBucketManager {
  open(name: string, options?: { quota?: number }): Promise<StorageBucket>;
  delete(name: string): Promise<void>;
}

/** A store in a Storage Bucket whose quota (1 MiB) Chromium enforces on IndexedDB. */
async function storeInBucket(name: string) {
  const buckets = (navigator as Navigator & { storageBuckets: StorageBucketManager })
    .storageBuckets;
  const bucketName = `quota-${name}-${run}`;
  const bucket = await buckets.open(bucketName, { quota: 2 ** 20 });
  const store = new DexieEventStore({ name: "chronicle", indexedDB: bucket.indexedDB });
  const remove = async () => {
    await store.close();
    store.db.close();
    await buckets.delete(bucketName);
  };
  return { store, remove };
}

/** The log holds exactly positions 1..head of `s`, in order, and nothing else. */
async function expectLogUpTo(store: DexieEventStore, head: number) {
  expect(await store.head("s")).toBe(head);
  expect(await store.lastCheckpoint()).toBe(head);
  expect(await store.db.events.count()).toBe(head);
  expect((await store.readStream("s")).map((event) => event.position)).toEqual(
    Array.from({ length: head }, (_, i) => i + 1),
  );
}

/** Twenty events of 16 KiB each. */
const batch = (index: number) =>
  Array.from({ length: 20 }, (_, i) =>
    createEnvelope(
      "s",
      { type: "blob.added", version: 1, data: { i, text: `${index}-${i}`.padEnd(16_384, ".") } },
      { actor: "test", device: "test" },
    ),
  );

describe("storage quota", () => {
  // A real quota: Chromium 156 ignores Storage.overrideQuotaForOrigin (DevTools protocol) for
  // IndexedDB, and the origin's own quota is 10 GiB here, but a Storage Bucket opened with a
  // quota of 1 MiB is enforced by the browser: its IndexedDB refuses writes past it with
  // QuotaExceededError within a few MiB (measured: ~30 ms). The store opens its database there.
  it("fails with code quota on a real quota, keeping what was stored and storing nothing of the failing batch", async () => {
    const { store, remove } = await storeInBucket("append");
    let failure: unknown;
    let stored = 0;
    for (let index = 0; index < 40 && failure === undefined; index++) {
      try {
        stored = (await store.append("s", batch(index))).head;
      } catch (error) {
        failure = error;
      }
    }
    expect(isChronicleError(failure, "quota")).toBe(true);
    expect(stored).toBeGreaterThan(0);
    // All of the batches before, none of the failing one; and the log still reads.
    await expectLogUpTo(store, stored);
    await remove();
  });

  it("fails with code quota on a real quota on the known-state path (writeAt), storing nothing of it", async () => {
    const { store, remove } = await storeInBucket("write-at");
    await store.append("s", batch(0).slice(0, 1));
    let failure: unknown;
    let head = 1;
    // (The bucket's quota is enforced loosely: this path has taken ~90 writes of ~200 KiB.)
    for (let index = 1; index < 300; index++) {
      const tail = store.tailHint;
      const events = store.confirmAt("s", batch(index).slice(0, 10), head, tail);
      const record = {
        key: "sizes/s",
        name: "sizes",
        version: 1,
        checkpoint: head + events.length,
        state: { last: `${index}`.padEnd(32_768, "!") },
      };
      const outcome = await store
        .writeAt("s", events, tail, () => [record])
        .catch((error: unknown) => {
          failure = error;
        });
      if (failure !== undefined) break;
      expect(outcome).toEqual({ projections: [record] });
      head += events.length;
    }
    expect(isChronicleError(failure, "quota")).toBe(true);
    expect(head).toBeGreaterThan(1);
    await expectLogUpTo(store, head);
    expect(await store.db.projections.get("sizes/s")).toMatchObject({ checkpoint: head });
    await remove();
  });

  // The same failure half-way through a batch, raised from a Dexie hook (the store then writes
  // through Dexie's table API), followed by a successful append.
  it("fails with code quota and stores nothing of the failing batch", async () => {
    const store = new DexieEventStore({ name: `quota-${run}` });
    await store.append("s", sampleEvents("s", 3, "first"));
    let rows = 0;
    const creating = () => {
      if (++rows === 50)
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    };
    store.db.events.hook("creating", creating);
    const failure = await store.append("s", sampleEvents("s", 100, "big")).catch((e: unknown) => e);
    store.db.events.hook("creating").unsubscribe(creating);
    expect(isChronicleError(failure, "quota")).toBe(true);
    expect(await store.head("s")).toBe(3);
    expect(await store.lastCheckpoint()).toBe(3);
    expect(await store.db.events.count()).toBe(3);
    const { head } = await store.append("s", sampleEvents("s", 100, "again"));
    expect(head).toBe(103);
    await store.close();
  });
});

describe("a database blocked by an old tab", () => {
  it("reports blocked while the old connection stays open, then opens", async () => {
    const name = `blocked-${run}`;
    // The "old tab": version 1 of the database (Dexie's version 1 is IndexedDB version 10), and
    // it ignores versionchange, as pages built without a handler do.
    const old = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let opened = false;
    let sawBlocked: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      sawBlocked = resolve;
    });
    const connecting = connect(name, boardWorker(), (status) => {
      if (status.type === "blocked") sawBlocked();
    }).then((connection) => {
      opened = true;
      return connection;
    });
    await blocked;
    expect(opened).toBe(false);
    old.close();
    const { chronicle } = await connecting;
    expect(opened).toBe(true);
    await chronicle.close();
  });

  it("steps aside for a newer version from another tab, and says so", async () => {
    const name = `upgrade-${run}`;
    let sawVersionChange: () => void = () => {};
    const versionChange = new Promise<void>((resolve) => {
      sawVersionChange = resolve;
    });
    const { chronicle } = await connect(name, boardWorker(), (status) => {
      if (status.type === "version-change") sawVersionChange();
    });
    // The "new tab": a higher IndexedDB version than Dexie's 10. It opens only if the host
    // closes its connection on versionchange.
    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 100);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await versionChange;
    upgraded.close();
    await chronicle.close();
  });
});

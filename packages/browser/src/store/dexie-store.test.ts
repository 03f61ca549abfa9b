// Node tier: the store contract suite on fake-indexeddb, plus store behaviours core's suite
// does not cover.
import { runEventStoreContract, sampleEvents } from "@chronicle/core/testing/store-contract";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { DexieEventStore } from "./dexie-store.ts";

let databases = 0;
const fresh = (now?: () => number) =>
  new DexieEventStore({
    name: `contract-${++databases}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    ...(now ? { now } : {}),
  });

runEventStoreContract("DexieEventStore (fake-indexeddb)", { makeStore: ({ now }) => fresh(now) });

describe("DexieEventStore on fake-indexeddb", () => {
  it("keeps recordedAt non-decreasing when the clock steps back", async () => {
    let time = 5_000;
    const store = fresh(() => time);
    await store.append("s", sampleEvents("s", 1));
    time = 1_000;
    const { results } = await store.append("s", sampleEvents("s", 1));
    expect(results[0]!.recordedAt).toBe(5_000);
    await store.close();
  });

  it("fails every call after close", async () => {
    const store = fresh();
    await store.close();
    await expect(store.head("s")).rejects.toMatchObject({ code: "internal" });
  });

  it("stores an id already stored in another stream as another event, on every write path", async () => {
    const store = fresh();
    const [event] = sampleEvents("a", 1);
    await store.append("a", [event!]);
    // The optimistic append (IndexedDB refuses a stored key), the looked-up one, and the path a
    // sync engine takes for events the node ordered.
    await store.append("b", [{ ...event!, stream: "b" }]);
    await store.append("c", [{ ...event!, stream: "c" }], { expectedVersion: "no-stream" });
    await store.insertConfirmed("d", [{ ...event!, stream: "d", position: 1, recordedAt: 7 }]);
    for (const stream of ["a", "b", "c", "d"]) {
      expect((await store.readStream(stream)).map((e) => e.id)).toEqual([event!.id]);
    }
    // Still one event per stream: a re-sent one is a duplicate, not a second row.
    await store.append("b", [{ ...event!, stream: "b" }]);
    await store.insertConfirmed("d", [{ ...event!, stream: "d", position: 1, recordedAt: 7 }]);
    expect(await store.lastCheckpoint()).toBe(4);
    await store.close();
  });

  it("inserts confirmed events idempotently, and refuses whole a batch past the head that repeats a stored id", async () => {
    const store = fresh();
    const confirmed = sampleEvents("s", 4).map((event, index) => ({
      ...event,
      position: index + 1,
      recordedAt: 10 + index,
    }));
    await store.insertConfirmed("s", confirmed.slice(0, 2));
    // Again with two more: the stored two are recognised by id, the new two stored.
    await store.insertConfirmed("s", confirmed);
    expect((await store.readStream("s")).map((event) => event.id)).toEqual(
      confirmed.map((event) => event.id),
    );
    // Position 5 under the id stored at 1 (no node sends it): nothing of the batch is stored.
    const [next] = sampleEvents("s", 1);
    const repeated = { ...confirmed[0]!, position: 6, recordedAt: 20 };
    const error = await store
      .insertConfirmed("s", [{ ...next!, position: 5, recordedAt: 19 }, repeated])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "protocol", details: { stream: "s", head: 4 } });
    expect(await store.head("s")).toBe(4);
    await store.close();
  });

  it("keeps the stream head and the log tail in meta, and falls back without them", async () => {
    const store = fresh();
    await store.append("s", sampleEvents("s", 3));
    await store.append("t", sampleEvents("t", 2));
    expect(await store.position("s")).toMatchObject({ head: 3, tail: { seq: 5 } });
    await store.db.meta.clear();
    expect(await store.position("s")).toMatchObject({ head: 3, tail: { seq: 5 } });
    expect(await store.lastCheckpoint()).toBe(5);
    await store.close();
  });
});

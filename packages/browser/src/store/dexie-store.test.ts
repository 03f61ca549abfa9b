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

  it("refuses an id already stored in another stream with validation, writing nothing", async () => {
    const store = fresh();
    const [event] = sampleEvents("a", 1);
    await store.append("a", [event!]);
    const moved = { ...event!, stream: "b" };
    await expect(store.append("b", [moved])).rejects.toMatchObject({
      code: "validation",
      details: { stream: "a" },
    });
    expect(await store.head("b")).toBe(0);
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

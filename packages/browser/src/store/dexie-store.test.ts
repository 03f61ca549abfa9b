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
});

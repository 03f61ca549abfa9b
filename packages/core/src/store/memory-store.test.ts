import { describe, expect, it } from "vitest";
import { runEventStoreContract, sampleEvents } from "../testing/store-contract.ts";
import { MemoryEventStore } from "./memory-store.ts";

runEventStoreContract("MemoryEventStore", {
  makeStore: ({ now }) => new MemoryEventStore({ now }),
});

describe("MemoryEventStore", () => {
  it("freezes stored events so a careless handler cannot corrupt the log", async () => {
    const store = new MemoryEventStore();
    await store.append("s", sampleEvents("s", 1));
    const [event] = await store.readStream("s");
    expect(Object.isFrozen(event!.data)).toBe(true);
  });

  it("keeps recordedAt non-decreasing when the clock steps back", async () => {
    let time = 5_000;
    const store = new MemoryEventStore({ now: () => time });
    await store.append("s", sampleEvents("s", 1));
    time = 1_000;
    const { results } = await store.append("s", sampleEvents("s", 1));
    expect(results[0]!.recordedAt).toBe(5_000);
  });

  it("fails every call after close", async () => {
    const store = new MemoryEventStore();
    await store.close();
    await expect(store.head("s")).rejects.toMatchObject({ code: "internal" });
  });
});

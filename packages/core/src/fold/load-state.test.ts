import { describe, expect, it } from "vitest";
import { boardDecider, columnCounts } from "../__fixtures__/board.ts";
import { createCommandHandler } from "../decider/command-handler.ts";
import { createProjectionRunner } from "../projection/projection-runner.ts";
import { MemorySnapshotStore, snapshotKey } from "../snapshot/snapshot-store.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { loadState, stateAt } from "./load-state.ts";

async function history() {
  let time = 10_000;
  const store = new MemoryEventStore({ now: () => time });
  const handle = createCommandHandler(store, boardDecider);
  // position p is recorded at 10_000 + p * 100
  for (let i = 1; i <= 30; i++) {
    time = 10_000 + i * 100;
    await handle("b", {
      type: "addCard",
      id: `c${i}`,
      title: `t${i}`,
      column: i % 2 ? "odd" : "even",
    });
  }
  return store;
}

describe("temporal reads", () => {
  it("gives the state at a position", async () => {
    const store = await history();
    const { state, position } = await stateAt(store, columnCounts, "b", { position: 5 });
    expect(position).toBe(5);
    expect(state.columns).toEqual({ odd: 3, even: 2 });
  });

  it("gives the state at a recordedAt time", async () => {
    const store = await history();
    const at = await stateAt(store, boardDecider, "b", { time: 10_000 + 7 * 100 + 50 });
    expect(at.position).toBe(7);
    expect(Object.keys(at.state.cards)).toHaveLength(7);
    const before = await stateAt(store, boardDecider, "b", { time: 5 });
    expect(before.position).toBe(0);
    expect(before.state).toEqual({ cards: {} });
  });

  it("starts from the nearest snapshot at or below the point", async () => {
    const store = await history();
    const snapshots = new MemorySnapshotStore();
    const runner = createProjectionRunner({ store, snapshots });
    const withSnapshots = { ...columnCounts, snapshotEvery: 10 };
    await runner.read(withSnapshots, "b");
    const key = snapshotKey("projection", "column-counts", "b");
    expect(snapshots.count(key)).toBe(3);

    const at = await stateAt(store, withSnapshots, "b", { position: 25 }, { snapshots });
    expect(at.snapshotPosition).toBe(20);
    expect(at.state.columns).toEqual({ odd: 13, even: 12 });
    const early = await stateAt(store, withSnapshots, "b", { position: 9 }, { snapshots });
    expect(early.snapshotPosition).toBe(0);
  });

  it("ignores snapshots taken by another version of the definition", async () => {
    const store = await history();
    const snapshots = new MemorySnapshotStore();
    const key = snapshotKey("decider", "board", "b");
    await snapshots.save({
      key,
      position: 20,
      version: 1,
      state: { cards: { bogus: { title: "?", column: "?" } } },
      takenAt: 0,
    });
    const v1 = await loadState(store, boardDecider, "b", { snapshots });
    expect(v1.snapshotPosition).toBe(20);
    expect(v1.state.cards.bogus).toBeDefined();
    const v2 = await loadState(store, { ...boardDecider, version: 2 }, "b", { snapshots });
    expect(v2.snapshotPosition).toBe(0);
    expect(v2.state.cards.bogus).toBeUndefined();
    expect(Object.keys(v2.state.cards)).toHaveLength(30);
  });

  it("refuses a malformed point in time", async () => {
    const store = await history();
    await expect(stateAt(store, columnCounts, "b", { position: -1 })).rejects.toMatchObject({
      code: "validation",
    });
    await expect(stateAt(store, columnCounts, "b", { time: Number.NaN })).rejects.toMatchObject({
      code: "validation",
    });
  });
});

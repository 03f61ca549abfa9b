import { describe, expect, it } from "vitest";
import { boardDecider, columnCounts } from "../__fixtures__/board.ts";
import { createCommandHandler } from "../decider/command-handler.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { diff, diffValues, history } from "./history.ts";
import { viewAt } from "./view-at.ts";

async function board() {
  let time = 1_000;
  const store = new MemoryEventStore({ now: () => time });
  const alice = createCommandHandler(store, boardDecider, {
    context: { actor: "alice", device: "laptop" },
  });
  const bob = createCommandHandler(store, boardDecider, {
    context: { actor: "bob", device: "phone" },
  });
  await alice("b", { type: "addCard", id: "c1", title: "One" });
  time = 2_000;
  await bob("b", { type: "addCard", id: "c2", title: "Two" });
  time = 3_000;
  await alice("b", { type: "moveCard", id: "c1", to: "done" });
  time = 4_000;
  await bob("b", { type: "removeCard", id: "c2" });
  return { store, alice };
}

describe("time travel", () => {
  it("history lists who did what and when", async () => {
    const { store } = await board();
    const entries = await history(store, "b", { from: 2, to: 3 });
    expect(entries.map((e) => [e.position, e.type, e.actor, e.device, e.recordedAt])).toEqual([
      [2, "card.added", "bob", "phone", 2_000],
      [3, "card.moved", "alice", "laptop", 3_000],
    ]);
    // Each entry names its workflow and cause, as its event does (devtools show them).
    const events = await store.readStream("b", { from: 2, limit: 2 });
    expect(entries.map((e) => [e.version, e.correlationId, e.causationId])).toEqual(
      events.map((event) => [event.version, event.meta.correlationId, event.meta.causationId]),
    );
    expect(entries[0]?.correlationId).toEqual(expect.any(String));
  });

  it("diff reports what changed in a read model between two positions", async () => {
    const { store } = await board();
    expect(await diff(store, boardDecider, "b", 1, 3)).toEqual([
      { path: ["cards", "c1", "column"], kind: "changed", before: "todo", after: "done" },
      { path: ["cards", "c2"], kind: "added", after: { title: "Two", column: "todo" } },
    ]);
    expect(await diff(store, boardDecider, "b", 3, 4)).toEqual([
      { path: ["cards", "c2"], kind: "removed", before: { title: "Two", column: "todo" } },
    ]);
    expect(diffValues({ a: [1, 2] }, { a: [1, 3] })).toEqual([
      { path: ["a", "1"], kind: "changed", before: 2, after: 3 },
    ]);
  });

  it("a view at a position does not move while the live stream does", async () => {
    const { store, alice } = await board();
    const past = await viewAt(store, "b", { time: 2_500 });
    expect(past.position).toBe(2);
    await alice("b", { type: "addCard", id: "c3", title: "Three" });
    expect((await past.read(columnCounts)).columns).toEqual({ todo: 2 });
    expect((await past.events()).map((e) => e.position)).toEqual([1, 2]);
    const live = await viewAt(store, "b", { position: 99 });
    expect(live.position).toBe(5);
    expect(Object.keys((await live.read(boardDecider)).cards).sort()).toEqual(["c1", "c3"]);
    await expect(viewAt(store, "b", { position: -1 })).rejects.toMatchObject({
      code: "validation",
    });
  });
});

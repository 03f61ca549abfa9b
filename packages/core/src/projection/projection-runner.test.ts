import { describe, expect, it } from "vitest";
import { boardDecider, columnCounts } from "../__fixtures__/board.ts";
import { createCommandHandler } from "../decider/command-handler.ts";
import { createEnvelope } from "../events/envelope.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { defineProjection } from "./define-projection.ts";
import { createProjectionRunner, type ProjectionProgress } from "./projection-runner.ts";
import { MemoryProjectionStateStore } from "./projection-state-store.ts";

async function boardWith(cards: number, stream = "board:1") {
  const store = new MemoryEventStore();
  const handle = createCommandHandler(store, boardDecider);
  for (let i = 0; i < cards; i++)
    await handle(stream, { type: "addCard", id: `c${i}`, title: `Card ${i}` });
  return { store, handle };
}

describe("ProjectionRunner", () => {
  it("folds incrementally from the persisted checkpoint", async () => {
    const { store, handle } = await boardWith(3);
    const states = new MemoryProjectionStateStore();
    const progress: ProjectionProgress[] = [];
    const runner = createProjectionRunner({ store, states, onProgress: (p) => progress.push(p) });
    expect((await runner.read(columnCounts, "board:1")).columns).toEqual({ todo: 3 });
    await handle("board:1", { type: "moveCard", id: "c0", to: "done" });
    const record = await runner.catchUp(columnCounts, "board:1");
    expect(record.state.columns).toEqual({ todo: 2, done: 1 });
    expect(record.checkpoint).toBe(4);
    expect(progress.map((p) => [p.done, p.total])).toEqual([
      [3, 3],
      [1, 1],
    ]);
    expect((await states.get("column-counts/board:1"))?.checkpoint).toBe(4);
  });

  it("rebuilds from scratch when the version changes, reporting progress", async () => {
    const store = new MemoryEventStore();
    const added = Array.from({ length: 2500 }, (_, i) =>
      createEnvelope("board:1", {
        type: "card.added",
        version: 2,
        data: { id: `c${i}`, title: "t", column: "todo" },
      }),
    );
    for (let i = 0; i < added.length; i += 500)
      await store.append("board:1", added.slice(i, i + 500));
    const states = new MemoryProjectionStateStore();
    await createProjectionRunner({ store, states }).read(columnCounts, "board:1");
    const v2 = defineProjection({
      ...columnCounts,
      version: 2,
      handlers: {
        "card.added": (state) => ({ ...state, columns: { all: (state.columns.all ?? 0) + 1 } }),
      },
    });
    const progress: ProjectionProgress[] = [];
    const runner = createProjectionRunner({ store, states, onProgress: (p) => progress.push(p) });
    expect((await runner.read(v2, "board:1")).columns).toEqual({ all: 2500 });
    expect(progress.map((p) => p.done)).toEqual([1000, 2000, 2500]);
    expect(progress.every((p) => p.rebuilding && p.total === 2500)).toBe(true);
    expect((await states.get("column-counts/board:1"))?.version).toBe(2);
  });

  it("stops at the failing event, names it, and keeps the state before it", async () => {
    const { store } = await boardWith(5);
    const [third] = await store.readStream("board:1", { from: 3, limit: 1 });
    const fragile = defineProjection({
      name: "fragile",
      events: columnCounts.events,
      initialState: { seen: 0 },
      handlers: {
        "card.added": (state, event) => {
          if (event.data.id === "c2") throw new Error("cannot handle c2");
          return { seen: state.seen + 1 };
        },
      },
    });
    const states = new MemoryProjectionStateStore();
    const runner = createProjectionRunner({ store, states });
    const error = await runner.read(fragile, "board:1").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "internal", details: { eventId: third!.id, position: 3 } });
    expect((error as Error).message).toContain("cannot handle c2");
    expect(await states.get("fragile/board:1")).toMatchObject({
      checkpoint: 2,
      state: { seen: 2 },
    });
    // It does not skip: the next run fails on the same event.
    await expect(runner.read(fragile, "board:1")).rejects.toMatchObject({
      details: { position: 3 },
    });
  });

  it("skips unknown event types and versions from newer clients without losing them", async () => {
    const { store } = await boardWith(1);
    await store.append("board:1", [
      createEnvelope("board:1", { type: "card.teleported", version: 1, data: { id: "c0" } }),
      createEnvelope("board:1", { type: "card.added", version: 7, data: { futuristic: true } }),
    ]);
    const runner = createProjectionRunner({ store });
    const record = await runner.catchUp(columnCounts, "board:1");
    expect(record.state.columns).toEqual({ todo: 1 });
    expect(record.checkpoint).toBe(3);
    expect((await store.readStream("board:1")).map((e) => e.type)).toContain("card.teleported");
  });

  it("projects many streams by prefix in commit order", async () => {
    const store = new MemoryEventStore();
    const handle = createCommandHandler(store, boardDecider);
    await handle("board:a", { type: "addCard", id: "1", title: "x" });
    await handle("other:z", { type: "addCard", id: "2", title: "x" });
    await handle("board:b", { type: "addCard", id: "3", title: "x", column: "doing" });
    const runner = createProjectionRunner({ store });
    const record = await runner.catchUp(columnCounts, { prefix: "board:" });
    expect(record.state.columns).toEqual({ todo: 1, doing: 1 });
    expect(record.checkpoint).toBe(3);
  });

  it("serialises concurrent runs of the same projection", async () => {
    const { store } = await boardWith(50);
    const runner = createProjectionRunner({ store });
    const [a, b] = await Promise.all([
      runner.read(columnCounts, "board:1"),
      runner.read(columnCounts, "board:1"),
    ]);
    expect(a.columns.todo).toBe(50);
    expect(b.columns.todo).toBe(50);
  });

  it("watch delivers the current state, then each change", async () => {
    const { store, handle } = await boardWith(1);
    const runner = createProjectionRunner({ store });
    const seen: Array<Record<string, number>> = [];
    let notify: () => void = () => {};
    const watcher = runner.watch(columnCounts, "board:1", (state) => {
      seen.push(state.columns);
      notify();
    });
    await watcher.caughtUp;
    const changed = new Promise<void>((resolve) => {
      notify = resolve;
    });
    await handle("board:1", { type: "moveCard", id: "c0", to: "done" });
    await changed;
    watcher.close();
    expect(seen).toEqual([{ todo: 1 }, { todo: 0, done: 1 }]);
  });
});

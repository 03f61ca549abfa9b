// Browser tier: the main thread talking to real module workers over comlink, on Chromium's
// IndexedDB: synchronous reads, subscriptions, coded errors, two hosts on one database.
import { isChronicleError, type UndoState } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { connect, firstMatching } from "../__fixtures__/connect.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { DexieSnapshotStore } from "../store/state-stores.ts";

const run = crypto.randomUUID().slice(0, 8);
let databases = 0;
const freshName = () => `chronicle-${run}-${++databases}`;

describe("createChronicle + hostChronicle", () => {
  it("executes in the worker and reads the projection synchronously afterwards", async () => {
    const { chronicle } = await connect(freshName());
    expect(chronicle.read(boardView, "board:1")).toBeUndefined();
    const result = await chronicle.execute("board:1", board, {
      type: "addCard",
      id: "c1",
      title: "Write docs",
    });
    expect(result.events.map((e) => e.position)).toEqual([1]);
    expect(chronicle.read(boardView, "board:1")).toEqual({
      count: 1,
      titles: { c1: "Write docs" },
    });
    expect(await chronicle.load(boardView, "board:1")).toMatchObject({ count: 1 });
    await chronicle.close();
  });

  it("delivers subscribed state after each write", async () => {
    const { chronicle } = await connect(freshName());
    const seen: number[] = [];
    const stop = chronicle.subscribe(boardView, "board:1", (state) => seen.push(state.count));
    const two = firstMatching<{ count: number }>(
      (listener) => chronicle.subscribe(boardView, "board:1", listener),
      (state) => state.count === 2,
    );
    await chronicle.execute("board:1", board, { type: "addCard", id: "a", title: "A" });
    await chronicle.execute("board:1", board, { type: "addCard", id: "b", title: "B" });
    await two;
    stop();
    expect(seen.at(-1)).toBe(2);
    // Never backwards, never repeated: the cache only moves forward.
    expect(seen).toEqual([...new Set(seen)].sort((x, y) => x - y));
    await chronicle.close();
  });

  it("rejects with ChronicleErrors that keep their code and details across the worker boundary", async () => {
    const { chronicle } = await connect(freshName());
    await chronicle.execute("board:1", board, { type: "addCard", id: "a", title: "A" });
    const duplicate = await chronicle
      .execute("board:1", board, { type: "addCard", id: "a", title: "again" })
      .catch((e: unknown) => e);
    expect(isChronicleError(duplicate, "validation")).toBe(true);
    expect(duplicate).toMatchObject({ name: "ChronicleError", details: { id: "a" } });
    await expect(
      chronicle.execute("board:1", board, { type: "removeCard", id: "zzz" }),
    ).rejects.toMatchObject({ code: "not-found" });
    await expect(
      chronicle.append("bad stream!", [{ type: "card.added", data: { id: "x", title: "x" } }]),
    ).rejects.toMatchObject({ code: "validation" });
    await chronicle.close();
    await expect(
      chronicle.execute("board:1", board, { type: "addCard", id: "b", title: "B" }),
    ).rejects.toMatchObject({ code: "internal" });
  });
});

describe("tabs: two hosts on one database", () => {
  it("has exactly one leader, and leadership moves when the leader closes", async () => {
    const name = freshName();
    const first = await connect(name);
    const second = await connect(name);
    await first.status((s) => s.type === "leader" && s.leader);
    expect(first.chronicle.isLeader()).toBe(true);
    expect(second.chronicle.isLeader()).toBe(false);
    await first.chronicle.close();
    await second.status((s) => s.type === "leader" && s.leader);
    expect(second.chronicle.isLeader()).toBe(true);
    await second.chronicle.close();
  });

  it("only the leader saves snapshots", async () => {
    const name = freshName();
    const leader = await connect(name);
    const follower = await connect(name);
    await leader.status((s) => s.type === "leader" && s.leader);
    // The board decider snapshots every 1,000 events.
    await follower.chronicle.execute("board:f", board, {
      type: "addMany",
      count: 1000,
      prefix: "f",
    });
    await leader.chronicle.execute("board:l", board, { type: "addMany", count: 1000, prefix: "l" });
    const store = new DexieEventStore({ name, broadcast: false });
    const snapshots = new DexieSnapshotStore(store.db);
    expect(await snapshots.load("decider/board/board:f")).toBeUndefined();
    expect(await snapshots.load("decider/board/board:l")).toMatchObject({ position: 1000 });
    await store.close();
    await leader.chronicle.close();
    await follower.chronicle.close();
  });

  it("a write in one host reaches the other host's subscribers", async () => {
    const name = freshName();
    const writer = await connect(name);
    const reader = await connect(name);
    type Board = { count: number; titles: Record<string, string> };
    // A subscriber that records every state, and lets the test wait for one.
    const watch = (chronicle: typeof writer.chronicle) => {
      const states: Board[] = [];
      const waiters: Array<{ until: (state: Board) => boolean; resolve: () => void }> = [];
      chronicle.subscribe(boardView, "board:7", (state) => {
        states.push(state);
        for (const waiter of [...waiters]) if (waiter.until(state)) waiter.resolve();
      });
      return {
        states,
        reach: (until: (state: Board) => boolean) =>
          states.some(until)
            ? Promise.resolve()
            : new Promise<void>((resolve) => waiters.push({ until, resolve })),
      };
    };
    const seenByReader = watch(reader.chronicle);
    // The reader has its state before the writes, so only a notice can tell it about them.
    await seenByReader.reach((state) => state.count === 0);
    await writer.chronicle.execute("board:7", board, { type: "addCard", id: "a", title: "A" });
    await writer.chronicle.execute("board:7", board, { type: "addCard", id: "b", title: "B" });
    await seenByReader.reach((state) => state.count === 2);
    expect(seenByReader.states.at(-1)!.titles).toEqual({ a: "A", b: "B" });

    // And back: the reader writes, the writer's (already current) subscriber sees it.
    const seenByWriter = watch(writer.chronicle);
    await seenByWriter.reach((state) => state.count === 2);
    await reader.chronicle.execute("board:7", board, { type: "removeCard", id: "a" });
    await seenByWriter.reach((state) => state.count === 1);
    await writer.chronicle.close();
    await reader.chronicle.close();
  });

  it("undo/redo from the main thread: shared by the tabs of the device, kept across a reload", async () => {
    const name = freshName();
    const tabA = await connect(name);
    const tabB = await connect(name);
    const S = "board:undo";
    tabA.chronicle.subscribe(boardView, S, () => {});
    await tabA.chronicle.execute(
      S,
      board,
      { type: "addCard", id: "c1", title: "One" },
      {
        label: "Add One",
      },
    );
    await tabA.chronicle.undoManager.group("Add two more", async () => {
      await tabA.chronicle.execute(S, board, { type: "addCard", id: "c2", title: "Two" });
      await tabA.chronicle.execute(S, board, { type: "addCard", id: "c3", title: "Three" });
    });
    // Reports travel on their own channel: wait for the one after the group.
    await firstMatching<UndoState>(
      (listener) => tabA.chronicle.undoManager.subscribe(listener),
      (state) => state.undoLabel === "Add two more",
    );
    // The other tab hears of the change to the shared stacks, and can undo it.
    await firstMatching<UndoState>(
      (listener) => tabB.chronicle.undoManager.subscribe(listener),
      (state) => state.undoLabel === "Add two more",
    );
    expect(await tabB.chronicle.undoManager.undo()).toMatchObject({
      status: "done",
      label: "Add two more",
    });
    await firstMatching<{ count: number }>(
      (listener) => tabA.chronicle.subscribe(boardView, S, listener),
      (state) => state.count === 1,
    );
    expect(tabA.chronicle.read(boardView, S)?.titles).toEqual({ c1: "One" });
    await firstMatching<UndoState>(
      (listener) => tabA.chronicle.undoManager.subscribe(listener),
      (state) => state.redoLabel === "Add two more" && state.undoLabel === "Add One",
    );
    await Promise.all([tabA.chronicle.close(), tabB.chronicle.close()]);

    // A reload: a new worker on the same database finds the stacks.
    const reloaded = await connect(name);
    await firstMatching<UndoState>(
      (listener) => reloaded.chronicle.undoManager.subscribe(listener),
      (state) => state.canRedo && state.undoLabel === "Add One",
    );
    expect(await reloaded.chronicle.undoManager.redo()).toMatchObject({ status: "done" });
    expect(await reloaded.chronicle.load(boardView, S)).toMatchObject({ count: 3 });
    const log = await reloaded.chronicle.readStream(S);
    expect(log.slice(3, 5).map((event) => event.meta.undoOf)).toEqual([[log[2]!.id], [log[1]!.id]]);
    expect(log.slice(5).map((event) => event.meta.redoOf)).toEqual([[log[1]!.id], [log[2]!.id]]);
    await reloaded.chronicle.close();
  });

  it("time travel from the main thread: state at a position or time, a frozen view, history, diff", async () => {
    const { chronicle } = await connect(freshName());
    const S = "board:past";
    await chronicle.execute(S, board, { type: "addMany", count: 1_200, prefix: "m" });
    const [lastOfBatch] = await chronicle.readStream(S, { direction: "backward", limit: 1 });
    await chronicle.execute(S, board, { type: "addCard", id: "late", title: "Late" });

    expect(await chronicle.stateAt(boardView, S, { position: 1_100 })).toMatchObject({
      count: 1_100,
    });
    const atTime = await chronicle.stateAt(board, S, { time: lastOfBatch!.recordedAt });
    expect(atTime.ids.length).toBeGreaterThanOrEqual(1_200);

    const view = await chronicle.viewAt(S, { position: 1_200 });
    await chronicle.execute(S, board, { type: "removeCard", id: "m0" });
    expect(view.position).toBe(1_200);
    expect(await view.read(boardView)).toMatchObject({ count: 1_200 });
    expect((await view.read(boardView)).titles.m0).toBe("Card 0");
    expect(await view.events({ from: 1_199 })).toHaveLength(2);

    const timeline = await chronicle.history(S, { from: 1_201 });
    expect(timeline.map((entry) => [entry.position, entry.type, entry.actor])).toEqual([
      [1_201, "card.added", "tester"],
      [1_202, "card.removed", "tester"],
    ]);
    expect(await chronicle.diff(boardView, S, 1_200, 1_202)).toEqual(
      expect.arrayContaining([
        { path: ["titles", "late"], kind: "added", after: "Late" },
        { path: ["titles", "m0"], kind: "removed", before: "Card 0" },
      ]),
    );
    await chronicle.close();
  });
});

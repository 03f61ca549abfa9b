// Node tier: a synced command on the stream's kept view (optimistic-known.ts) is answered while
// its transaction commits, writes its pending rows without waiting for its check, and never
// writes on a view that another writer moved: the command then runs the ordinary way (those
// cases, optimistic-known.cases.ts, also run on Chromium's IndexedDB).
import { createEnvelope, foldEvents, initialStateOf } from "@chronicle/core";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { ExecuteResult } from "../shared/host-api.ts";
import type { ChronicleEngine } from "./engine.ts";
import { add, offlineEngines, pendingEvents, S, staleViewCases } from "./optimistic-known.cases.ts";
import { OrderedLocalLog } from "./ordered-local-log.ts";

const offlineEngine = offlineEngines(() => ({ indexedDB: new IDBFactory(), IDBKeyRange }));

async function expectFreshFold(engine: ChronicleEngine) {
  const events = await pendingEvents(engine);
  expect(await engine.optimisticState("board", S)).toEqual(
    foldEvents(board, initialStateOf(board), events),
  );
  expect((await engine.read("board-view", S)).state).toEqual(
    foldEvents(boardView, initialStateOf(boardView), events),
  );
}

describe("synced commands on a kept view", () => {
  it("are answered early with the result they resolve with, each in one transaction, folding only their events", async () => {
    const engine = await offlineEngine();
    await engine.execute(S, "board", { type: "addMany", count: 200, prefix: "p" });
    await engine.execute(S, "board", add("first"));
    const { stats } = engine.optimisticStates;
    const before = { ...stats };
    for (let i = 0; i < 5; i++) {
      let early: ExecuteResult | undefined;
      const result = await engine.execute(S, "board", add(`c${i}`), {}, (known) => {
        early = known;
      });
      expect(early).toBe(result);
      expect(result).toMatchObject({ pending: true, head: 0, events: [{ data: { id: `c${i}` } }] });
      expect(result.projections[0]?.state).toMatchObject({ count: 202 + i });
    }
    expect(stats.knownCommands - before.knownCommands).toBe(5);
    expect(stats.viewReads).toBe(before.viewReads);
    // One event each, folded once into the decider's state and once into the view's.
    expect(stats.pendingFolded - before.pendingFolded).toBe(10);
    await expectFreshFold(engine);
    expect((await pendingEvents(engine)).map((event) => event.data)).toHaveLength(206);
  });

  it("are confirmed once durable, before the commit is announced to watchers, tabs and the sync engine", async () => {
    const engine = await offlineEngine();
    await engine.execute(S, "board", add("a"));
    await engine.execute(S, "board", add("b"));
    const order: string[] = [];
    const unlisten = engine.store.onCommit(() => order.push("announced"));
    const result = await engine.execute(S, "board", add("c"), {}, () => {
      order.push("early");
      return () => order.push("confirmed");
    });
    unlisten();
    expect(order).toEqual(["early", "confirmed", "announced"]);
    // Durable when confirmed: a fresh read of the log has it.
    expect((await pendingEvents(engine)).map((event) => event.id)).toContain(result.events[0]!.id);
  });

  it("post no answer before their write holds while the stream's kept views went stale lately", async () => {
    const engine = await offlineEngine();
    await engine.execute(S, "board", add("a"));
    await engine.execute(S, "board", add("b"));
    // Another tab's pending events, each written before this engine's next command (notices not
    // arrived yet): that command's kept view is stale.
    const other = new OrderedLocalLog(engine.store);
    const staleCommand = async (id: string) => {
      await other.addPending(S, [
        createEnvelope(S, { type: "card.added", version: 1, data: { id: `o-${id}`, title: id } }),
      ]);
      const early: ExecuteResult[] = [];
      const result = await engine.execute(S, "board", add(id), {}, (answer) => {
        early.push(answer);
      });
      return { early, result };
    };
    // The first stale view in a while: answered before its write held, then again.
    const first = await staleCommand("c");
    expect(first.early).toHaveLength(1);
    expect(first.early[0]).not.toBe(first.result);
    // Stale again: nothing posted for it.
    expect((await staleCommand("d")).early).toEqual([]);
    // After a calm run of writes from the kept view, answers leave early again.
    const { stats } = engine.optimisticStates;
    const known = stats.knownCommands;
    for (let i = 0; stats.knownCommands < known + 8 && i < 20; i++) {
      await engine.execute(S, "board", add(`e${i}`));
    }
    expect(stats.knownCommands).toBe(known + 8);
    expect((await staleCommand("f")).early).toHaveLength(1);
    await expectFreshFold(engine);
  });

  it("with nothing pending, answer before the check, and again with what happened when it fails", async () => {
    const engine = await offlineEngine();
    await engine.execute(S, "board", add("a"));
    const [event] = await pendingEvents(engine);
    await new OrderedLocalLog(engine.store).applyConfirmed(S, [
      { ...event!, position: 1, recordedAt: 1_000 },
    ]);
    await engine.read("board-view", S); // the kept view: a confirmed, nothing pending
    await engine.execute(S, "board", add("b")); // known, its answer posted before its check
    const [b] = await pendingEvents(engine);
    await new OrderedLocalLog(engine.store).applyConfirmed(S, [
      { ...b!, position: 2, recordedAt: 2_000 },
    ]);
    await engine.read("board-view", S);
    // Another tab appends a pending event, its notice not arrived yet: the check fails.
    await new OrderedLocalLog(engine.store).addPending(S, [
      createEnvelope(S, { type: "card.added", version: 1, data: { id: "x", title: "X" } }),
    ]);
    const early: ExecuteResult[] = [];
    const result = await engine.execute(S, "board", add("c"), {}, (answer) => {
      early.push(answer);
    });
    // Posted on the stale view (while its check ran), then the command's real answer: the main
    // thread shows only the latter (command-channel.test.ts).
    expect(early[0]?.projections[0]?.state).toMatchObject({ count: 3 });
    expect(early[0]).not.toBe(result);
    expect(result.projections[0]?.state).toMatchObject({ count: 4 });
    const events = [...(await engine.store.readStream(S)), ...(await pendingEvents(engine))];
    expect(await engine.optimisticState("board", S)).toEqual(
      foldEvents(board, initialStateOf(board), events),
    );
  });

  it("stay on a kept view when the node confirmed earlier commands meanwhile, however often the view moved", async () => {
    const engine = await offlineEngine();
    await engine.execute(S, "board", add("a"));
    await engine.execute(S, "board", add("b"));
    await engine.execute(S, "board", add("c"));
    const { stats } = engine.optimisticStates;
    // The node's acks, written as the leader's sync session writes them (its notices not
    // arrived yet), one event at a time: the kept view is older than the log each time.
    const acks = new OrderedLocalLog(engine.store);
    const confirm = async (position: number) => {
      const [event] = (await pendingEvents(engine)).slice(0, 1);
      await acks.applyConfirmed(S, [{ ...event!, position, recordedAt: 1_000 + position }]);
    };
    await confirm(1);
    const known = stats.knownCommands;
    let early: ExecuteResult | undefined;
    const result = await engine.execute(S, "board", add("d"), {}, (answer) => {
      early = answer;
    });
    // Brought up to date in memory (no pending row read) and decided there, answered early.
    expect(early).toBe(result);
    expect(stats.knownCommands).toBe(known + 1);
    expect(result.projections[0]?.state).toMatchObject({ count: 4 });
    // Several moves of the view between two commands (two acks, reads by watchers racing
    // each other in between): the decider's kept state follows them all.
    const reads = stats.viewReads;
    await confirm(2);
    await Promise.all([engine.read("board-view", S), engine.read("board-view", S)]);
    await confirm(3);
    await engine.read("board-view", S);
    await engine.execute(S, "board", add("e"), {}, (answer) => {
      early = answer;
    });
    expect(stats.knownCommands).toBe(known + 2);
    expect(stats.viewReads).toBe(reads);
    expect(await engine.store.head(S)).toBe(3);
    expect((await pendingEvents(engine)).map((event) => (event.data as { id: string }).id)).toEqual(
      ["d", "e"],
    );
    const events = [...(await engine.store.readStream(S)), ...(await pendingEvents(engine))];
    expect(await engine.optimisticState("board", S)).toEqual(
      foldEvents(board, initialStateOf(board), events),
    );
    expect((await engine.read("board-view", S)).state).toEqual(
      foldEvents(boardView, initialStateOf(boardView), events),
    );
  });
});

staleViewCases("fake-indexeddb", () => ({ indexedDB: new IDBFactory(), IDBKeyRange }));

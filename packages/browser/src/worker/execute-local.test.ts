// Node tier: commands on a known state (execute-local.ts) against other writers of the same
// database. Two engines on one fake-indexeddb database stand in for two tabs. A tab that commits
// hears of it late (the notice is posted in a later task), so the next command of the other tab
// still writes on what it last committed without reading, and the database must refuse it.
import { defineProjection, isChronicleError } from "@chronicle/core";
import { forceCloseDatabase, IDBFactory } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { boardView, cardRemoved } from "../__fixtures__/board.ts";
import { openBoardEngine } from "../__fixtures__/engine.ts";
import type { EngineOptions } from "./engine-options.ts";

let factory = new IDBFactory();
const open = (extra: Partial<EngineOptions> = {}) =>
  openBoardEngine("speculation-test", factory, extra);

afterEach(() => {
  factory = new IDBFactory();
});

const add = (id: string) => ({ type: "addCard" as const, id, title: `Card ${id}` });

async function projection(engine: Awaited<ReturnType<typeof open>>, stream: string) {
  return engine.store.db.projections.get(`${boardView.name}/${stream}`);
}

describe("speculative commands", () => {
  it("a command that reaches a decider snapshot on a known state reads no event again", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", { type: "addMany", count: 998, prefix: "p" });
    await engine.execute("board:1", "board", add("a"));
    let read = 0;
    const readStream = engine.store.readStream.bind(engine.store);
    engine.store.readStream = async (...args) => {
      const events = await readStream(...args);
      read += events.length;
      return events;
    };
    // The 1,000th event: the snapshot is due (the board decider snapshots every 1,000).
    const result = await engine.execute("board:1", "board", add("b"));
    expect(result.head).toBe(1000);
    expect(read).toBe(0);
    expect(engine.speculation).toMatchObject({ speculated: 2, stale: 0, unconfirmed: 1 });
    expect(await engine.snapshots.load("decider/board/board:1")).toMatchObject({ position: 1000 });
    // And the next command is on a known state again.
    await engine.execute("board:1", "board", add("c"));
    expect(engine.speculation).toMatchObject({ speculated: 3, unconfirmed: 1 });
    await engine.close();
  });

  it("write without reading first once this worker committed the stream's last command", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", add("a"));
    const result = await engine.execute("board:1", "board", add("b"));
    expect(engine.speculation).toEqual({ speculated: 1, stale: 0, unconfirmed: 0 });
    expect(result.head).toBe(2);
    expect(result.projections).toEqual([
      expect.objectContaining({ checkpoint: 2, state: expect.objectContaining({ count: 2 }) }),
    ]);
    expect(await projection(engine, "board:1")).toMatchObject({ checkpoint: 2 });
    await engine.close();
  });

  it("takes turns: commands sent together each continue from the one before", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", add("a"));
    await engine.execute("board:2", "board", add("z"));
    const results = await Promise.all(
      ["b", "c", "d", "e"].map((id, index) =>
        engine.execute(index % 2 === 0 ? "board:1" : "board:2", "board", add(id)),
      ),
    );
    expect(results.map((result) => result.head)).toEqual([2, 2, 3, 3]);
    // Every one wrote on a known state; none was refused (each waited for the one before).
    expect(engine.speculation).toEqual({ speculated: 4, stale: 0, unconfirmed: 0 });
    expect((await engine.store.readAll()).map((entry) => entry.checkpoint)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(await projection(engine, "board:1")).toMatchObject({ checkpoint: 3 });
    await engine.close();
  });

  it("keeps the records of projections a command does not concern, and folds them later", async () => {
    // A second projection that only counts removals.
    const removals = defineProjection({
      name: "removals",
      events: [cardRemoved],
      initialState: { count: 0 },
      handlers: { "card.removed": (state) => ({ count: state.count + 1 }) },
    });
    const engine = await open({ projections: [boardView, removals] });
    const remove = (id: string) => ({ type: "removeCard" as const, id });
    await engine.execute("board:1", "board", add("a"));
    await engine.execute("board:1", "board", remove("a")); // removals is new here: ordinary
    await engine.execute("board:1", "board", add("b"));
    await engine.execute("board:1", "board", add("c"));
    const before = { ...engine.speculation };
    await engine.execute("board:1", "board", remove("b")); // removals last moved at 2
    expect(engine.speculation.unconfirmed).toBe(before.unconfirmed);
    expect(await engine.store.db.projections.get("removals/board:1")).toMatchObject({
      checkpoint: 5,
      state: { count: 2 },
    });
    await engine.close();
  });

  it("runs again, the ordinary way, when another tab appended to the stream meanwhile", async () => {
    const tab1 = await open();
    const tab2 = await open();
    await tab1.execute("board:1", "board", add("a"));
    await tab1.execute("board:1", "board", add("b"));
    await tab2.execute("board:1", "board", add("c"));
    // tab1 has not heard of tab2's commit yet: it writes after head 2, is refused (position 3
    // is taken), and runs the command again.
    const result = await tab1.execute("board:1", "board", add("d"));
    expect(tab1.speculation.stale).toBe(1);
    expect(result.head).toBe(4);
    const events = await tab1.store.readStream("board:1");
    expect(events.map((event) => [event.position, (event.data as { id: string }).id])).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
      [4, "d"],
    ]);
    expect(await projection(tab1, "board:1")).toMatchObject({
      checkpoint: 4,
      state: { count: 4, titles: { a: "Card a", b: "Card b", c: "Card c", d: "Card d" } },
    });
    await tab1.close();
    await tab2.close();
  });

  it("decides again on the current state: a verdict on a stale state is never reported", async () => {
    const tab1 = await open();
    const tab2 = await open();
    await tab1.execute("board:1", "board", add("a"));
    await tab1.execute("board:1", "board", add("b"));
    await tab2.execute("board:1", "board", { type: "removeCard", id: "a" });
    // On tab1's remembered state card "a" exists (decide refuses); it does not any more.
    const result = await tab1.execute("board:1", "board", add("a"));
    expect(tab1.speculation).toMatchObject({ stale: 0, unconfirmed: 1 });
    expect(result.head).toBe(4);
    // And the other way round: a command that looks fine on the stale state but is not.
    await tab1.execute("board:1", "board", add("x"));
    await tab2.execute("board:1", "board", add("y"));
    const error = await tab1.execute("board:1", "board", add("y")).catch((e: unknown) => e);
    expect(isChronicleError(error, "validation")).toBe(true);
    expect(await tab1.store.head("board:1")).toBe(6);
    expect(await projection(tab1, "board:1")).toMatchObject({ checkpoint: 6, state: { count: 4 } });
    await tab1.close();
    await tab2.close();
  });

  it("keeps the log's commit order when another tab wrote to another stream", async () => {
    const tab1 = await open();
    const tab2 = await open();
    await tab1.execute("board:1", "board", add("a"));
    await tab1.execute("board:1", "board", add("b"));
    await tab2.execute("board:2", "board", add("z"));
    await tab1.execute("board:1", "board", add("c"));
    expect(tab1.speculation.stale).toBe(1);
    const all = await tab1.store.readAll();
    expect(all.map((entry) => [entry.checkpoint, entry.event.stream])).toEqual([
      [1, "board:1"],
      [2, "board:1"],
      [3, "board:2"],
      [4, "board:1"],
    ]);
    await tab1.close();
    await tab2.close();
  });

  it("starts the stream over when the site's data was cleared under the worker", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", add("a"));
    await engine.execute("board:1", "board", add("b"));
    // DevTools "Clear site data" (or eviction): the browser force-closes the connection (a
    // "close" event; Dexie reopens on its next call) and deletes the database.
    forceCloseDatabase(
      engine.store.db.backendDB() as unknown as Parameters<typeof forceCloseDatabase>[0],
    );
    await new Promise<void>((resolve, reject) => {
      const request = factory.deleteDatabase("speculation-test");
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
    });
    // Anything the worker reads next (a watcher, the undo flush, a read) reopens it, empty.
    expect(await engine.store.readStream("board:1")).toEqual([]);
    const result = await engine.execute("board:1", "board", add("c"));
    // As the ordinary way would: decided on the empty stream, at position 1 and sequence 1.
    expect(result.head).toBe(1);
    expect((await engine.store.readAll()).map((entry) => entry.checkpoint)).toEqual([1]);
    expect(await projection(engine, "board:1")).toMatchObject({
      checkpoint: 1,
      state: { count: 1, titles: { c: "Card c" } },
    });
    await engine.close();
  });

  it("reads again, without a refused write, after this worker undid or appended on the stream", async () => {
    const engine = await open({ undo: { captureWindowMs: 0 } }); // one undo step per command
    await engine.execute("board:1", "board", add("a"));
    await engine.execute("board:1", "board", add("b"));
    expect(engine.speculation).toEqual({ speculated: 1, stale: 0, unconfirmed: 0 });
    expect(await engine.undo()).toMatchObject({ status: "done" }); // removes b at position 3
    await engine.execute("board:1", "board", add("c"));
    await engine.append("board:1", [{ type: "card.added", data: { id: "x", title: "Card x" } }]);
    await engine.execute("board:1", "board", add("d"));
    // Neither command after another write of this worker tried the position that write took.
    expect(engine.speculation).toEqual({ speculated: 1, stale: 0, unconfirmed: 0 });
    // Committed the ordinary way, the state is known again.
    const result = await engine.execute("board:1", "board", add("e"));
    expect(engine.speculation).toEqual({ speculated: 2, stale: 0, unconfirmed: 0 });
    expect(result.head).toBe(7);
    expect(await projection(engine, "board:1")).toMatchObject({
      checkpoint: 7,
      state: {
        count: 5,
        titles: { a: "Card a", c: "Card c", x: "Card x", d: "Card d", e: "Card e" },
      },
    });
    await engine.close();
  });

  it("stops speculating once it hears of another tab's commit", async () => {
    const tab1 = await open();
    const tab2 = await open();
    await tab1.execute("board:1", "board", add("a"));
    const heard = new Promise<void>((resolve) => {
      const stop = tab1.store.onCommit((notice) => {
        if (notice.remote) {
          stop();
          resolve();
        }
      });
    });
    await tab2.execute("board:2", "board", add("z"));
    await heard;
    await tab1.execute("board:1", "board", add("b"));
    expect(tab1.speculation).toEqual({ speculated: 0, stale: 0, unconfirmed: 0 });
    await tab1.close();
    await tab2.close();
  });

  it("writes nothing when a request fails midway through a speculative transaction", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", add("a"));
    // A failing put of the projection record (the last request) stands in for a full disk.
    const proto = Object.getPrototypeOf(
      (await engine.store.db.backendDB()).transaction("projections").objectStore("projections"),
    ) as { put: (...args: unknown[]) => unknown };
    const put = proto.put;
    proto.put = function (this: { name: string }, ...args: unknown[]) {
      if (this.name === "projections") throw new DOMException("quota", "QuotaExceededError");
      return put.apply(this, args);
    };
    const error = await engine
      .execute("board:1", "board", { type: "addMany", count: 3, prefix: "m" })
      .catch((e: unknown) => e)
      .finally(() => {
        proto.put = put;
      });
    expect(engine.speculation.speculated).toBe(1);
    expect(isChronicleError(error, "quota")).toBe(true);
    expect(await engine.store.head("board:1")).toBe(1);
    expect((await engine.store.readAll()).length).toBe(1);
    expect(await projection(engine, "board:1")).toMatchObject({ checkpoint: 1 });
    // The next command starts from what is stored.
    const result = await engine.execute("board:1", "board", add("b"));
    expect(result.head).toBe(2);
    expect(await projection(engine, "board:1")).toMatchObject({
      checkpoint: 2,
      state: { count: 2 },
    });
    await engine.close();
  });
});

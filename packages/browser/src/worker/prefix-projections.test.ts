// Node tier: cross-stream projections in the worker engine (fake-indexeddb): one record over
// every local stream with the prefix, moved in the transaction of each command, watched live;
// with a sync engine (in-memory node), confirmed plus the pending events of every matching stream.
import type { ProjectionRecord } from "@chronicle/core";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView, cardAdded, cardRemoved } from "../__fixtures__/board.ts";
import { type BoardList, boardList } from "../__fixtures__/board-list.ts";
import type { HostStatus } from "../shared/host-api.ts";
import type { ChronicleEngine } from "./engine.ts";
import { openEngine } from "./open-engine.ts";

const opened: ChronicleEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

let databases = 0;
async function open(extra: Parameters<typeof openEngine>[0] = {}) {
  const statuses: HostStatus[] = [];
  const waiters = new Set<() => void>();
  const engine = await openEngine({
    name: `prefix-${++databases}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    events: [cardAdded, cardRemoved],
    deciders: [board],
    projections: [boardView, boardList],
    onStatus: (status) => {
      statuses.push(status);
      for (const wake of [...waiters]) wake();
    },
    ...extra,
  });
  opened.push(engine);
  const until = (match: (status: HostStatus) => boolean) =>
    new Promise<HostStatus>((resolve) => {
      const check = () => {
        const found = statuses.find(match);
        if (found) {
          waiters.delete(check);
          resolve(found);
        }
      };
      waiters.add(check);
      check();
    });
  return { engine, until };
}

// Key order differs with the order streams were folded in: compare entries sorted.
const canonical = (list: BoardList | undefined) =>
  JSON.stringify(Object.entries(list ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/** Watches the list of boards; `seen(want)` resolves once a delivered state equals `want`. */
function watchList(engine: ChronicleEngine) {
  const states: BoardList[] = [];
  const wakers = new Set<() => void>();
  const id = engine.watch("board-list", undefined, (record: ProjectionRecord) => {
    states.push(record.state as BoardList);
    for (const wake of [...wakers]) wake();
  });
  const seen = (want: BoardList) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (states.length > 0 && canonical(states.at(-1)) === canonical(want)) {
          wakers.delete(check);
          resolve();
        }
      };
      wakers.add(check);
      check();
    });
  return { states, seen, stop: () => engine.unwatch(id) };
}

describe("cross-stream projections without sync", () => {
  it("keeps the list of boards live across 3 streams, in each command's transaction", async () => {
    const { engine } = await open();
    const list = watchList(engine);
    await list.seen({});
    const first = await engine.execute("board:a", "board", {
      type: "addCard",
      id: "1",
      title: "A",
    });
    // The command's answer carries the record it moved, as stored by its transaction.
    const moved = first.projections.find((record) => record.key === "board-list/board:*");
    expect(moved).toMatchObject({ checkpoint: 1, state: { "board:a": { cards: 1 } } });
    expect(await engine.store.db.projections.get("board-list/board:*")).toEqual(moved);

    await engine.execute("board:b", "board", { type: "addMany", count: 3, prefix: "b" });
    await engine.execute("other:x", "board", { type: "addCard", id: "x", title: "not a board" });
    await engine.execute("board:c", "board", { type: "addCard", id: "1", title: "C" });
    await engine.execute("board:a", "board", { type: "addCard", id: "2", title: "A2" });
    await engine.execute("board:b", "board", { type: "removeCard", id: "b0" });
    const want = { "board:a": { cards: 2 }, "board:b": { cards: 2 }, "board:c": { cards: 1 } };
    await list.seen(want);
    expect((await engine.read("board-list")).state).toEqual(want);
    // Never a state that skips back: every delivered state is a later one.
    const totals = list.states.map((state) =>
      Object.values(state).reduce((sum, { cards }) => sum + cards, 0),
    );
    expect(totals).toEqual([0, 1, 4, 5, 6, 5]);
    list.stop();
  });

  it("commands on a known state move the list without reading, and it stays a fresh fold", async () => {
    const { engine } = await open();
    await engine.execute("board:a", "board", { type: "addCard", id: "0", title: "first" });
    const before = { ...engine.speculation };
    for (let i = 1; i <= 5; i++) {
      await engine.execute("board:a", "board", { type: "addCard", id: `${i}`, title: "t" });
    }
    expect(engine.speculation.speculated - before.speculated).toBe(5);
    expect(engine.speculation.unconfirmed - before.unconfirmed).toBe(0);
    expect(engine.speculation.stale - before.stale).toBe(0);
    // Other streams move the log's tail: commands go on, the list stays exact.
    await engine.execute("other:x", "board", { type: "addCard", id: "x", title: "not a board" });
    await engine.execute("board:b", "board", { type: "addMany", count: 2, prefix: "b" });
    await engine.execute("board:a", "board", { type: "removeCard", id: "0" });
    await engine.execute("board:b", "board", { type: "addCard", id: "b9", title: "t" });
    const want = { "board:a": { cards: 5 }, "board:b": { cards: 3 } };
    const stored = await engine.store.db.projections.get("board-list/board:*");
    expect(stored).toMatchObject({ checkpoint: 11, state: want });
    expect((await engine.read("board-list")).state).toEqual(want);
    expect((await engine.rebuild("board-list")).state).toEqual(want);
  });

  it("a failed transaction moves neither the events nor the list", async () => {
    const { engine } = await open();
    await engine.execute("board:a", "board", { type: "addCard", id: "1", title: "A" });
    let rows = 0;
    const creating = () => {
      if (++rows === 5) throw new DOMException("quota", "QuotaExceededError");
    };
    engine.store.db.events.hook("creating", creating);
    await expect(
      engine.execute("board:b", "board", { type: "addMany", count: 10, prefix: "m" }),
    ).rejects.toMatchObject({ code: "quota" });
    engine.store.db.events.hook("creating").unsubscribe(creating);
    expect(await engine.store.db.projections.get("board-list/board:*")).toMatchObject({
      checkpoint: 1,
      state: { "board:a": { cards: 1 } },
    });
  });

  it("refuses a stream projection read without a stream, and a prefix one by an unknown name", async () => {
    const { engine } = await open();
    const read = async (name: string) => engine.read(name);
    await expect(read("board-view")).rejects.toMatchObject({ code: "validation" });
    await expect(read("nope")).rejects.toMatchObject({ code: "validation" });
  });
});

describe("cross-stream projections with sync", () => {
  it("shows confirmed plus pending events of every matching stream, and converges", async () => {
    const node = new MemoryNode();
    const streams = ["board:a", "board:b", "board:c"];
    let sync: SyncEngine | undefined;
    const { engine, until } = await open({
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams,
        followNetwork: false,
        online: false,
        onEngine: (created) => {
          sync = created;
        },
      }),
    });
    await until((s) => s.type === "sync-status");
    const list = watchList(engine);
    await engine.execute("board:a", "board", { type: "addCard", id: "1", title: "A" });
    await engine.execute("board:b", "board", { type: "addMany", count: 2, prefix: "b" });
    await engine.execute("board:c", "board", { type: "addCard", id: "1", title: "C" });
    const pendingOnly = {
      "board:a": { cards: 1 },
      "board:b": { cards: 2 },
      "board:c": { cards: 1 },
    };
    await list.seen(pendingOnly);
    const offline = await engine.read("board-list");
    expect(offline).toMatchObject({ checkpoint: 0, pending: 4, state: pendingOnly });

    // Another device's event, confirmed by the node before ours.
    const other = await open({
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams: ["board:b"],
        followNetwork: false,
      }),
    });
    await other.engine.execute("board:b", "board", { type: "addCard", id: "o", title: "O" });
    await other.until(
      (s) =>
        s.type === "sync-status" && s.status.state === "synced" && s.status.confirmedHead === 1,
    );

    sync!.setOnline(true);
    const want = { "board:a": { cards: 1 }, "board:b": { cards: 3 }, "board:c": { cards: 1 } };
    for (const [stream, head] of [
      ["board:a", 1],
      ["board:b", 3],
      ["board:c", 1],
    ] as const) {
      await until(
        (s) =>
          s.type === "sync-status" &&
          s.stream === stream &&
          s.status.state === "synced" &&
          s.status.pending === 0 &&
          s.status.confirmedHead === head,
      );
    }
    await list.seen(want);
    const online = await engine.read("board-list");
    expect(online).toMatchObject({ pending: 0, state: want });
    expect(online.checkpoint).toBe(5);
    list.stop();
  });
});

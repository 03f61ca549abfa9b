// Node tier: the sync seam's table operations on fake-indexeddb.
import { isChronicleError } from "@chronicle/core";
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { board, boardView, cardAdded } from "../__fixtures__/board.ts";
import { DexieEventStore } from "./dexie-store.ts";
import { createProjectionUpdater } from "./projection-updater.ts";
import { DexieSnapshotStore } from "./state-stores.ts";
import { SyncTables } from "./sync-tables.ts";

function open() {
  const store = new DexieEventStore({
    name: "sync-tables",
    indexedDB: new IDBFactory(),
    IDBKeyRange,
  });
  store.setAppendHook(
    createProjectionUpdater({
      store,
      projections: [boardView],
      snapshots: new DexieSnapshotStore(store.db),
    }).update,
  );
  return { store, sync: new SyncTables(store) };
}

const cards = (stream: string, ids: string[]) =>
  sampleEvents(stream, ids.length).map((event, index) => ({
    ...event,
    type: cardAdded.type,
    data: { id: ids[index]!, title: ids[index]! },
  }));

describe("SyncTables", () => {
  it("keeps pending events with their command, in local order, until confirmed", async () => {
    const { store, sync } = open();
    const mine = cards("board:1", ["a", "b"]);
    const command = { decider: "board", payload: { n: 1 }, strict: true, basePosition: 0 };
    await sync.appendPending("board:1", mine, command);
    expect((await sync.pending("board:1")).map((row) => [row.id, row.command])).toEqual([
      [mine[0]!.id, command],
      [mine[1]!.id, command],
    ]);
    expect(await store.head("board:1")).toBe(0);

    await sync.confirm("board:1", [
      { id: mine[0]!.id, position: 1, recordedAt: 10 },
      { id: mine[1]!.id, position: 2, recordedAt: 10 },
    ]);
    expect(await sync.pending("board:1")).toEqual([]);
    expect((await store.readStream("board:1")).map((e) => [e.id, e.position])).toEqual([
      [mine[0]!.id, 1],
      [mine[1]!.id, 2],
    ]);
    expect(await store.db.projections.get("board-view/board:1")).toMatchObject({
      checkpoint: 2,
      state: { count: 2 },
    });
    expect(await sync.syncState("board:1")).toEqual({ cursor: 2 });
    await store.close();
  });

  it("rebases: remote events go first, pending ones fold after them", async () => {
    const { store, sync } = open();
    const remote = cards("board:1", ["r1"]).map((e) => ({ ...e, position: 1, recordedAt: 5 }));
    const mine = cards("board:1", ["m1"]);
    await sync.appendPending("board:1", mine);
    await sync.insertConfirmed("board:1", remote);
    await sync.insertConfirmed("board:1", remote); // idempotent
    const optimistic = await sync.optimisticState(board, "board:1");
    expect(optimistic).toMatchObject({ confirmed: 1, pending: 1, state: { ids: ["r1", "m1"] } });
    await store.close();
  });

  it("refuses a gap in confirmed positions with protocol, writing nothing", async () => {
    const { store, sync } = open();
    const gap = cards("board:1", ["x"]).map((e) => ({ ...e, position: 3, recordedAt: 5 }));
    const error = await sync.insertConfirmed("board:1", gap).catch((e: unknown) => e);
    expect(isChronicleError(error, "protocol")).toBe(true);
    expect(await store.head("board:1")).toBe(0);
    await store.close();
  });

  it("drops pending events, and resets the confirmed cache on a new epoch", async () => {
    const { store, sync } = open();
    const remote = cards("board:1", ["r1", "r2"]).map((e, i) => ({
      ...e,
      position: i + 1,
      recordedAt: 5,
    }));
    await sync.insertConfirmed("board:1", remote);
    const mine = cards("board:1", ["m1", "m2"]);
    await sync.appendPending("board:1", mine);
    await sync.dropPending("board:1", [mine[0]!.id]);
    await sync.resetConfirmed("board:1", "epoch-2");
    expect(await store.head("board:1")).toBe(0);
    expect(await store.db.projections.get("board-view/board:1")).toBeUndefined();
    expect((await sync.pending("board:1")).map((row) => row.id)).toEqual([mine[1]!.id]);
    expect(await sync.syncState("board:1")).toEqual({ cursor: 0, epoch: "epoch-2" });
    await store.close();
  });

  it("never reuses a commit sequence, even after a reset deleted the newest events", async () => {
    const { store, sync } = open();
    await store.append("board:2", cards("board:2", ["x"]));
    const remote = cards("board:1", ["r1", "r2"]).map((e, i) => ({
      ...e,
      position: i + 1,
      recordedAt: 50,
    }));
    await sync.insertConfirmed("board:1", remote);
    expect(await store.lastCheckpoint()).toBe(3);
    await sync.resetConfirmed("board:1", "epoch-2"); // deletes seq 2 and 3
    expect(await store.lastCheckpoint()).toBe(3);
    await store.append("board:2", cards("board:2", ["y"]));
    const all = await store.readAll();
    expect(all.map((entry) => entry.checkpoint)).toEqual([1, 4]);
    expect(all[1]!.event.recordedAt).toBeGreaterThanOrEqual(50); // never before the tail
    expect(await store.head("board:2")).toBe(2);
    await store.close();
  });
});

// Node tier: core's LocalLog contract on fake-indexeddb, plus what the browser adds: confirmed
// events are the store's events, with projections and commit notices moving with them.
import { createEnvelope, isChronicleError, isHistoryIncomplete } from "@chronicle/core";
import { runLocalLogContract } from "@chronicle/core/testing/local-log-contract";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { boardView, cardAdded } from "../__fixtures__/board.ts";
import { DexieLocalLog } from "./dexie-local-log.ts";
import { DexieEventStore } from "./dexie-store.ts";
import { createProjectionUpdater } from "./projection-updater.ts";
import { DexieSnapshotStore } from "./state-stores.ts";

let databases = 0;
function fresh() {
  const store = new DexieEventStore({
    name: `local-log-${++databases}`,
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
  return { store, log: new DexieLocalLog(store) };
}

runLocalLogContract("DexieLocalLog (fake-indexeddb)", { makeLog: () => fresh().log });

const card = (id: string) =>
  createEnvelope(
    "board:1",
    { type: cardAdded.type, version: 1, data: { id, title: id } },
    { actor: "a", device: "d" },
  );

describe("DexieLocalLog on the browser store", () => {
  it("stores confirmed events where readStream finds them, projections and notices with them", async () => {
    const { store, log } = fresh();
    const notices: string[][] = [];
    store.onCommit((notice) => notices.push(notice.streams));
    const mine = card("m1");
    await log.addPending("board:1", [mine]);
    const remote = { ...card("r1"), position: 1, recordedAt: 7 };
    await log.applyConfirmed("board:1", [remote, { ...mine, position: 2, recordedAt: 8 }]);
    expect((await store.readStream("board:1")).map((e) => [e.id, e.position])).toEqual([
      [remote.id, 1],
      [mine.id, 2],
    ]);
    expect(await store.db.projections.get("board-view/board:1")).toMatchObject({
      checkpoint: 2,
      state: { count: 2 },
    });
    expect(await log.readPending("board:1")).toEqual([]);
    await Promise.resolve();
    expect(notices).toContainEqual(["board:1"]);
    await store.close();
  });

  it("keeps the cursor with the epoch; a command no longer pending is appended", async () => {
    const { store, log } = fresh();
    await log.applyConfirmed("board:1", [{ ...card("r1"), position: 1, recordedAt: 7 }]);
    await log.writeMeta("board:1", { epoch: "e1" });
    expect(await log.tables.syncState("board:1")).toEqual({ cursor: 1, epoch: "e1" });
    await log.replacePending("board:1", "gone", []);
    expect(await log.readPending("board:1")).toEqual([]);
    const again = card("x");
    const command = { id: "gone", decider: "board", command: {}, strict: true, basePosition: 1 };
    await log.replacePending("board:1", "gone", [again], command);
    expect((await log.readPending("board:1")).map((p) => [p.event.id, p.commandId])).toEqual([
      [again.id, "gone"],
    ]);
    expect(await log.readCommands("board:1")).toEqual([command]);
    const error = await log
      .applyConfirmed("board:1", [{ ...card("g"), position: 5, recordedAt: 9 }])
      .catch((e: unknown) => e);
    expect(isChronicleError(error, "protocol")).toBe(true);
    await store.close();
  });

  it("starts after a floor where the host loads states: snapshots, projection records, the tail on top", async () => {
    const { store, log } = fresh();
    const view = { count: 10, titles: { c10: "c10" } };
    await log.startConfirmedAt("board:1", {
      floor: 10,
      epoch: "e1",
      snapshots: [
        { key: "projection/board-view/board:1", position: 10, version: 1, state: view, takenAt: 1 },
        { key: "decider/board/board:1", position: 10, version: 1, state: { n: 10 }, takenAt: 1 },
      ],
    });
    expect(await store.db.snapshots.get(["decider/board/board:1", 10])).toMatchObject({
      state: { n: 10 },
    });
    await log.applyConfirmed("board:1", [{ ...card("c11"), position: 11, recordedAt: 11 }]);
    // The projection moved from its record at the floor, not from the first event.
    expect(await store.db.projections.get("board-view/board:1")).toMatchObject({
      checkpoint: 11,
      state: { count: 11 },
    });
    expect((await store.readStream("board:1", { from: 11 })).map((e) => e.position)).toEqual([11]);
    // A read from below the floor says the history is not here, rather than folding a part.
    for (const read of [
      () => store.readStream("board:1"),
      () => store.readStream("board:1", { from: 3, toPosition: 5 }),
    ]) {
      const error = await read().catch((e: unknown) => e);
      expect(isHistoryIncomplete(error)).toBe(true);
    }
    await log.prependConfirmed(
      "board:1",
      Array.from({ length: 10 }, (_, i) => ({
        ...card(`c${i + 1}`),
        position: i + 1,
        recordedAt: i + 1,
      })),
    );
    expect(await log.confirmedFloor("board:1")).toBe(0);
    expect((await store.readStream("board:1")).map((e) => e.position)).toEqual(
      Array.from({ length: 11 }, (_, i) => i + 1),
    );
    // Back-filled events do not move projections twice.
    expect(await store.db.projections.get("board-view/board:1")).toMatchObject({
      checkpoint: 11,
      state: { count: 11 },
    });
    await store.close();
  });
});

// Node tier: core's LocalLog contract on fake-indexeddb, plus what the browser adds: confirmed
// events are the store's events, with projections and commit notices moving with them.
import { createEnvelope, isChronicleError } from "@chronicle/core";
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
});

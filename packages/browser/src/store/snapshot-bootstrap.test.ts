// Node tier: a new device's browser storage (DexieLocalLog over fake-indexeddb, projections moved
// by the store) started from the node's snapshots by the sync engine (docs/architecture.md,
// "Snapshots for new devices"): the host's loads find the start states, its time travel says
// history is incomplete below the floor, and after the back-fill the database holds the same
// log and states as a device that replayed everything.
import {
  foldEvents,
  initialStateOf,
  isHistoryIncomplete,
  loadState,
  MemoryLocalLog,
  stateAt,
} from "@chronicle/core";
import { createSyncEngine, type SyncEngineOptions } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { DexieLocalLog } from "./dexie-local-log.ts";
import { DexieEventStore } from "./dexie-store.ts";
import { createProjectionUpdater } from "./projection-updater.ts";
import { DexieSnapshotStore } from "./state-stores.ts";

const S = "board:snap";
let databases = 0;

function device(node: MemoryNode, name: string, options: Partial<SyncEngineOptions> = {}) {
  const store = new DexieEventStore({
    name: `snapshot-bootstrap-${++databases}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
  });
  const snapshots = new DexieSnapshotStore(store.db);
  store.setAppendHook(
    createProjectionUpdater({ store, projections: [boardView], snapshots }).update,
  );
  const local = new DexieLocalLog(store);
  const engine = createSyncEngine({
    local,
    transport: createLoopbackTransport(node),
    device: name,
    deciders: [board],
    ...options,
  });
  return { store, snapshots, local, engine };
}

it("a Dexie device started from snapshots reads at once, says history-incomplete below the floor, and ends like a full catch-up", async () => {
  const node = new MemoryNode({
    snapshots: { deciders: [board], projections: [boardView], every: 100 },
  });
  const writer = createSyncEngine({
    local: new MemoryLocalLog(),
    transport: createLoopbackTransport(node),
    device: "writer",
  });
  for (let round = 0; round < 3; round++) {
    await writer.execute(S, board, { type: "addMany", count: 100, prefix: `r${round}-` });
  }
  await writer.execute(S, board, { type: "removeCard", id: "r0-7" });
  for (let i = 0; i < 4; i++)
    await writer.execute(S, board, { type: "addCard", id: `x${i}`, title: "x" });
  await writer.syncOnce(S);
  const log = node.log(S);
  expect(log).toHaveLength(305);

  const fresh = device(node, "fresh", {
    snapshots: { projections: [boardView], backfill: "on-demand" },
  });
  await fresh.engine.syncOnce(S);
  expect(await fresh.local.confirmedFloor(S)).toBe(300);
  expect(await fresh.store.head(S)).toBe(305);
  // The projection record moved from its start state at the floor, on the tail only.
  expect(await fresh.store.db.projections.get(`board-view/${S}`)).toMatchObject({
    checkpoint: 305,
    state: foldEvents(boardView, initialStateOf(boardView), log),
  });
  // The decider's state loads from its start snapshot, as the host's command path loads it.
  const loaded = await loadState(fresh.store, board, S, { snapshots: fresh.snapshots });
  expect(loaded).toMatchObject({ position: 305, snapshotPosition: 300 });
  expect(loaded.state).toEqual(foldEvents(board, initialStateOf(board), log));
  // Time travel below the floor says so; above it, it works.
  const early = await stateAt(
    fresh.store,
    boardView,
    S,
    { position: 50 },
    {
      snapshots: fresh.snapshots,
    },
  ).catch((e: unknown) => e);
  expect(isHistoryIncomplete(early)).toBe(true);
  expect(
    (await stateAt(fresh.store, boardView, S, { position: 302 }, { snapshots: fresh.snapshots }))
      .state,
  ).toEqual(foldEvents(boardView, initialStateOf(boardView), log.slice(0, 302)));
  // A command is decided on the start state + tail.
  await fresh.engine.execute(S, board, { type: "removeCard", id: "r2-5" });
  await fresh.engine.syncOnce(S);

  const full = device(node, "full");
  await full.engine.syncOnce(S);
  expect(await full.local.confirmedFloor(S)).toBe(0);
  await fresh.engine.backfill(S);
  expect(await fresh.local.confirmedFloor(S)).toBe(0);
  const everything = node.log(S);
  expect(await fresh.store.readStream(S)).toEqual(everything);
  expect(await full.store.readStream(S)).toEqual(everything);
  expect((await fresh.store.db.projections.get(`board-view/${S}`))?.state).toEqual(
    (await full.store.db.projections.get(`board-view/${S}`))?.state,
  );
  expect(
    (await stateAt(fresh.store, boardView, S, { position: 50 }, { snapshots: fresh.snapshots }))
      .state,
  ).toEqual(foldEvents(boardView, initialStateOf(boardView), everything.slice(0, 50)));
  await Promise.all([fresh.store.close(), full.store.close()]);
});

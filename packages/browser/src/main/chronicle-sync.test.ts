// Node tier: the main-thread API with sync, over a MessageChannel (comlink) to a host whose sync
// starter uses @chronicle/sync's in-memory node: optimistic reads after execute, sync statuses,
// subscriptions that follow confirmed events.
import type { SyncStatus } from "@chronicle/core";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { hostChronicle } from "../worker/host.ts";
import { createChronicle } from "./create-chronicle.ts";

const S = "board:1";

it("execute shows pending state at once; statuses and subscriptions follow the node", async () => {
  const node = new MemoryNode();
  let engine: SyncEngine | undefined;
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: "chronicle-sync-main",
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [board],
      projections: [boardView],
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams: [S],
        followNetwork: false,
        online: false,
        onEngine: (created) => {
          engine = created;
        },
      }),
    },
    port2 as never,
  );
  const chronicle = await createChronicle({ worker: port1 as never, persist: false });
  expect(chronicle.sync).toBe(true);
  const statuses: SyncStatus[] = [];
  let wake = () => {};
  chronicle.onSyncStatus(S, (status) => {
    statuses.push(status);
    wake();
  });
  const status = (match: (s: SyncStatus) => boolean) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (statuses.some(match)) resolve();
      };
      wake();
    });
  const states: number[] = [];
  chronicle.subscribe(boardView, S, (state) => states.push(state.count));

  const result = await chronicle.execute(S, board, { type: "addCard", id: "a", title: "A" });
  expect(result.pending).toBe(true);
  expect(chronicle.read(boardView, S)?.count).toBe(1);
  await status((s) => s.state === "offline" && s.pending === 1);
  expect(chronicle.syncStatus(S)).toMatchObject({ state: "offline", pending: 1, confirmedHead: 0 });

  engine!.setOnline(true);
  await status((s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === 1);
  expect(node.log(S).map((e) => e.data)).toEqual([{ id: "a", title: "A" }]);
  expect((await chronicle.readStream(S)).map((e) => e.position)).toEqual([1]);
  expect(await chronicle.load(boardView, S)).toMatchObject({ count: 1 });
  expect(states.at(-1)).toBe(1);
  await chronicle.close();
  port1.close();
});

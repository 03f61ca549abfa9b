// Browser tier: a new device's host (worker host in the page, IndexedDB in Chromium) whose sync
// starter asks for the node's snapshots (docs/architecture.md, "Snapshots for new devices"). The
// node is an in-page MemoryNode (the same serving rule as the real node, with this test's own
// definitions). The host reads and decides at once on the start states plus the tail, its time
// travel says history-incomplete below the floor, and after the back-fill the device holds the
// same log and states as one that replayed everything.
import { isHistoryIncomplete, type SyncStatus } from "@chronicle/core";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { hostChronicle } from "../worker/host.ts";
import { createChronicle } from "./create-chronicle.ts";

const run = crypto.randomUUID().slice(0, 8);
const S = `board:${run}`;

async function host(node: MemoryNode, label: string, snapshots: boolean) {
  let engine: SyncEngine | undefined;
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: `snap-${run}-${label}`,
      deciders: [board],
      projections: [boardView],
      actor: "user",
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams: [S],
        followNetwork: false,
        ...(snapshots
          ? { snapshots: { deciders: [board], projections: [boardView], backfill: "on-demand" } }
          : {}),
        onEngine: (created) => {
          engine = created;
        },
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  const synced = (head: number) =>
    new Promise<SyncStatus>((resolve) => {
      const off = chronicle.onSyncStatus(S, (status) => {
        if (status.state !== "synced" || status.pending > 0 || status.confirmedHead !== head)
          return;
        queueMicrotask(() => off());
        resolve(status);
      });
    });
  return { chronicle, synced, engine: () => engine! };
}

it("a new device's host starts from the node's snapshots, is usable at once, and ends like a full catch-up", async () => {
  const node = new MemoryNode({
    snapshots: { deciders: [board], projections: [boardView], every: 100 },
  });
  const writer = await host(node, "writer", false);
  for (let round = 0; round < 4; round++) {
    await writer.chronicle.execute(S, board, { type: "addMany", count: 100, prefix: `r${round}-` });
  }
  await writer.chronicle.execute(S, board, { type: "addCard", id: "last", title: "Last" });
  await writer.synced(401);

  const fresh = await host(node, "fresh", true);
  await fresh.synced(401);
  expect(await fresh.engine().historyFloor(S)).toBe(400);
  // Reads at once: the projection's record started at the floor.
  expect(await fresh.chronicle.load(boardView, S)).toEqual(
    await writer.chronicle.load(boardView, S),
  );
  // Commands at once, on the decider's start state + the tail.
  await fresh.chronicle.execute(S, board, { type: "removeCard", id: "r3-9" });
  const duplicate = await fresh.chronicle
    .execute(S, board, { type: "addCard", id: "r0-1", title: "again" })
    .catch((e: unknown) => e);
  expect((duplicate as { code?: string }).code).toBe("validation"); // the start state knows r0-1
  await Promise.all([fresh.synced(402), writer.synced(402)]);
  // Time travel below the floor: the history is not here yet.
  const early = await fresh.chronicle
    .stateAt(boardView, S, { position: 10 })
    .catch((e: unknown) => e);
  expect(isHistoryIncomplete(early)).toBe(true);

  await fresh.engine().backfill(S);
  expect(await fresh.engine().historyFloor(S)).toBe(0);
  expect(await fresh.chronicle.readStream(S)).toEqual(await writer.chronicle.readStream(S));
  expect(await fresh.chronicle.load(boardView, S)).toEqual(
    await writer.chronicle.load(boardView, S),
  );
  expect(await fresh.chronicle.stateAt(boardView, S, { position: 10 })).toEqual(
    await writer.chronicle.stateAt(boardView, S, { position: 10 }),
  );
  await Promise.all([fresh.chronicle.close(), writer.chronicle.close()]);
});

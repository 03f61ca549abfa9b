// A new device against the real sync node (wrangler dev, worker/main.ts with the demo's board as
// snapshot definitions): it starts from the node's snapshot + the tail, is usable at once, says
// history is incomplete below its floor, and after the back-fill holds the same log and states
// as a device that replayed everything (docs/architecture.md, "Snapshots for new devices").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createEnvelope,
  isHistoryIncomplete,
  MemoryLocalLog,
  type NewEvent,
} from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport, type SyncEngine } from "@chronicle/sync";
import { afterAll, expect, it } from "vitest";
import WebSocket from "ws";
import { board, boardView } from "../../demo/src/board.ts";
import { devToken, type RunningNode, startNode } from "../sync-node/node-process.ts";
import { untilStatus } from "./until-status.ts";

const STREAM = "board:snapshot-e2e";
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-snapshot-e2e-"));
const nodes: RunningNode[] = [];
const engines: SyncEngine[] = [];
afterAll(async () => {
  for (const engine of engines) engine.close();
  for (const node of nodes) await node.stop("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

/** 2,345 events through the HTTP route: cards added, some moved, in batches of 500. */
async function fill(node: RunningNode, token: string): Promise<void> {
  const events: NewEvent[] = [];
  for (let i = 0; events.length < 2_345; i++) {
    const id = `c${i}`;
    events.push(
      createEnvelope(
        STREAM,
        { type: "card.added", version: 1, data: { id, title: `Card ${i}`, column: "todo" } },
        { actor: "writer", device: "w" },
      ),
    );
    if (i % 3 === 0 && events.length < 2_345) {
      events.push(
        createEnvelope(
          STREAM,
          { type: "card.moved", version: 1, data: { id, to: "done" } },
          { actor: "writer", device: "w" },
        ),
      );
    }
  }
  for (let from = 0; from < events.length; from += 500) {
    const response = await fetch(`${node.url}/v1/streams/${STREAM}/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ events: events.slice(from, from + 500) }),
    });
    expect(response.status).toBe(200);
  }
}

function device(node: RunningNode, token: string, name: string, snapshots: boolean) {
  const local = new MemoryLocalLog();
  const engine = createSyncEngine({
    local,
    transport: createWebSocketTransport({ url: node.url, token, WebSocket: WebSocket as never }),
    device: name,
    actor: "user",
    deciders: [board],
    backoff: { initialMs: 50, maxMs: 500 },
    ...(snapshots
      ? {
          snapshots: {
            deciders: [board],
            projections: [boardView],
            backfill: "on-demand" as const,
          },
        }
      : {}),
  });
  engines.push(engine);
  return { local, engine };
}

const synced = (engine: SyncEngine, head: number) =>
  untilStatus(
    engine,
    STREAM,
    (s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === head,
  );

it("a new device starts from the node's snapshot and ends with the same log and states as a full catch-up", async () => {
  const node = await startNode({ persistTo: stateDir });
  nodes.push(node);
  const token = await devToken(node, "user");
  await fill(node, token);

  const fresh = device(node, token, "fresh", true);
  fresh.engine.start(STREAM);
  await synced(fresh.engine, 2_345);
  // Started after the node's snapshot at 2,000 (the node's `every` is 1,000): only the tail.
  expect(await fresh.local.confirmedFloor(STREAM)).toBe(2_000);
  expect(await fresh.local.readConfirmed(STREAM, 2_000)).toHaveLength(345);

  const full = device(node, token, "full", false);
  full.engine.start(STREAM);
  await synced(full.engine, 2_345);
  expect(await full.local.confirmedFloor(STREAM)).toBe(0);

  // Usable at once: the read model and the decider's state equal the full replay's.
  expect((await fresh.engine.state(STREAM, boardView)).state).toEqual(
    (await full.engine.state(STREAM, boardView)).state,
  );
  await fresh.engine.execute(STREAM, board, { type: "moveCard", id: "c1", to: "doing" });
  await fresh.engine.execute(
    STREAM,
    board,
    { type: "addCard", id: "new", title: "From the new device" },
    { strict: true },
  );
  await Promise.all([synced(fresh.engine, 2_347), synced(full.engine, 2_347)]);

  // Time travel before the floor: history is not here yet.
  const early = await fresh.engine
    .stateAt(STREAM, boardView, { position: 10 })
    .catch((e: unknown) => e);
  expect(isHistoryIncomplete(early)).toBe(true);

  await fresh.engine.backfill(STREAM);
  expect(await fresh.local.confirmedFloor(STREAM)).toBe(0);
  expect(await fresh.local.readConfirmed(STREAM)).toEqual(await full.local.readConfirmed(STREAM));
  for (const foldable of [board, boardView]) {
    expect((await fresh.engine.state(STREAM, foldable)).state).toEqual(
      (await full.engine.state(STREAM, foldable)).state,
    );
  }
  expect((await fresh.engine.stateAt(STREAM, boardView, { position: 10 })).state).toEqual(
    (await full.engine.stateAt(STREAM, boardView, { position: 10 })).state,
  );
  // Starting wrangler dev and folding the demo's board (which copies its cards per event) several
  // times over 2,347 events takes a while on a loaded machine; nothing here waits on a clock.
}, 180_000);

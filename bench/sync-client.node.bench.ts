import { fileURLToPath } from "node:url";
import {
  type ConfirmedEvent,
  createEnvelope,
  MemoryLocalLog,
  type SyncStatus,
} from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport } from "@chronicle/sync";
import { afterAll, beforeAll, it } from "vitest";
import WebSocket from "ws";
import { type LocalNode, startLocalNode } from "./local-node.ts";
import { printTable, time } from "./table.ts";

const COUNT = 100_000;
const STREAM = "bench:catchup";
const config = fileURLToPath(new URL("../wrangler.toml", import.meta.url));
let node: LocalNode;
let base = "";
let token = "";

beforeAll(async () => {
  node = await startLocalNode(config);
  ({ base, token } = node);
  for (let i = 0; i < COUNT; i += 500) {
    const events = Array.from({ length: 500 }, (_, j) =>
      createEnvelope(
        STREAM,
        {
          type: "card.added",
          version: 1,
          data: { id: `c${i + j}`, title: "A card title", column: "todo" },
        },
        { actor: "bench", device: "seed" },
      ),
    );
    const pushed = await fetch(`${base}/v1/streams/${STREAM}/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    });
    if (!pushed.ok) throw new Error(`seeding failed: ${pushed.status} ${await pushed.text()}`);
  }
}, 600_000);

afterAll(async () => {
  await node?.dispose();
});

it("fresh device catching up 100,000 events: engine vs raw page fetches", async () => {
  const floor = async () => {
    const events: ConfirmedEvent[] = [];
    for (;;) {
      const response = await fetch(
        `${base}/v1/streams/${STREAM}/events?after=${events.length}&limit=1000`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      const page = (await response.json()) as { events: ConfirmedEvent[]; more: boolean };
      events.push(...page.events);
      if (!page.more) return events.length;
    }
  };
  const engine = async () => {
    const local = new MemoryLocalLog();
    const sync = createSyncEngine({
      local,
      transport: createWebSocketTransport({ url: base, token, WebSocket: WebSocket as never }),
      device: "fresh",
      actor: "bench",
    });
    await new Promise<void>((resolve) => {
      sync.onSyncStatus(STREAM, (status: SyncStatus) => {
        if (status.state === "synced" && status.confirmedHead === COUNT) resolve();
      });
      sync.start(STREAM);
    });
    sync.close();
    return local.confirmedHead(STREAM);
  };
  await floor();
  let floorMs = Number.POSITIVE_INFINITY;
  let engineMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 2; round++) {
    floorMs = Math.min(floorMs, await time(floor));
    engineMs = Math.min(engineMs, await time(engine));
  }
  printTable("Fresh device catching up 100,000 events from a local node (Node, memory local log)", [
    {
      case: "floor: HTTP pages of 1,000 into an array",
      ms: floorMs,
      "events/s": Math.round(COUNT / (floorMs / 1000)),
    },
    {
      case: "sync engine over WebSocket",
      ms: engineMs,
      "events/s": Math.round(COUNT / (engineMs / 1000)),
    },
    { case: "ratio engine/floor", ms: "", "events/s": (floorMs / engineMs).toFixed(2) },
  ]);
}, 600_000);

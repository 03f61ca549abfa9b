// Sync client catch-up, in Node against a local node (wrangler's startWorker): a fresh device
// pulling 100,000 events through the engine (WebSocket, MemoryLocalLog) vs the floor of fetching
// the same pages over HTTP and keeping them in an array. The browser version of this benchmark
// (into IndexedDB, projections current) waits for the engine to be wired into the browser host.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConfirmedEvent, createEnvelope, MemoryLocalLog } from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport, type SyncStatus } from "@chronicle/sync";
import { afterAll, beforeAll, it } from "vitest";
import { unstable_startWorker } from "wrangler";
import WebSocket from "ws";
import { printTable, time } from "./table.ts";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

const COUNT = 100_000;
const STREAM = "bench:catchup";
const config = fileURLToPath(new URL("../wrangler.toml", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-catchup-"));
let worker: Awaited<ReturnType<typeof unstable_startWorker>>;
let base = "";
let token = "";

beforeAll(async () => {
  worker = await unstable_startWorker({
    config,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      persist: stateDir,
      watch: false,
      remote: false,
      logLevel: "warn",
    },
  });
  const url = await worker.url;
  base = `${url.protocol}//${url.host}`;
  const response = await fetch(`${base}/v1/dev/token`, {
    method: "POST",
    body: JSON.stringify({ sub: "bench", streams: { "*": "write" } }),
  });
  token = ((await response.json()) as { token: string }).token;
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
  await worker?.dispose();
  rmSync(stateDir, { recursive: true, force: true });
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
      sync.onStatus(STREAM, (status: SyncStatus) => {
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

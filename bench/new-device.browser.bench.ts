// A new device on a 100,000-event stream (plus a 500-event tail above the node's last snapshot),
// in Chromium (on-disk profile, production build), from the bench's own local node
// (bench/sync-node/index.ts in workerd, which keeps snapshots of the bench app every 1,000
// events): time to the first read of the whole stream and to the first command, by full
// catch-up and by snapshot bootstrap; then the same device cold-opened again, synced: first read
// vs first command. Prints a table; asserts only that each device holds the whole stream.
import { createEnvelope, type NewEvent, type SyncStatus } from "@chronicle/core";
import { inject, it } from "vitest";
import {
  loadProd,
  modeNote,
  openProd,
  printBrowserTable,
  scaled,
  until,
  type WorkerSync,
} from "./browser-kit.ts";

const run = crypto.randomUUID().slice(0, 8);
const pushSize = 500;

async function seed(url: string, token: string, stream: string, total: number): Promise<void> {
  const endpoint = `${url}/v1/streams/${encodeURIComponent(stream)}/events`;
  for (let start = 0; start < total; start += pushSize) {
    const events: NewEvent[] = Array.from({ length: Math.min(pushSize, total - start) }, (_, i) =>
      createEnvelope(
        stream,
        {
          type: "item.added",
          version: 1,
          data: { id: `n${start + i}`, title: `Item ${start + i}` },
        },
        { actor: "bench", device: "bench-seed" },
      ),
    );
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    if (!response.ok) throw new Error(`seed push: ${response.status} ${await response.text()}`);
  }
}

/** Times from opening a fresh device: the whole stream read, a first command, its ack. */
interface FirstUse {
  firstRead: number;
  firstCommand: number;
  firstAck: number;
}

async function firstUse(
  name: string,
  sync: WorkerSync,
  stream: string,
  total: number,
): Promise<FirstUse> {
  const { tally, tallyView } = await loadProd();
  const start = performance.now();
  const device = await openProd(name, sync);
  await until<{ count: number }>(
    (listener) => device.subscribe(tallyView, stream, listener),
    (state) => state.count === total,
  );
  const firstRead = performance.now() - start;
  await device.execute(stream, tally, { type: "add", id: `first-${name}`, title: "First" });
  const firstCommand = performance.now() - start;
  await until<SyncStatus>(
    (listener) => device.onSyncStatus(stream, listener),
    // The command's event is confirmed (a status from before it may still say "synced").
    (status) => status.pending === 0 && status.confirmedHead > total,
  );
  const firstAck = performance.now() - start;
  await device.close();
  return { firstRead, firstCommand, firstAck };
}

/** Asks the bench worker for the engine's history floor (bench/app/bench.worker.ts); -1: no answer. */
function historyFloor(stream: string): Promise<number> {
  const channel = new BroadcastChannel("chronicle-bench-floor");
  return new Promise<number>((resolve) => {
    const timer = setTimeout(() => resolve(-1), 5_000);
    channel.onmessage = ({ data }: MessageEvent<{ stream: string; floor: number }>) => {
      if (data.stream !== stream) return;
      clearTimeout(timer);
      resolve(data.floor);
    };
    channel.postMessage({ stream });
  }).finally(() => channel.close());
}

/** The node's snapshots of the bench app's decider and projection (the first call folds them). */
async function warmSnapshots(sync: WorkerSync, stream: string): Promise<string> {
  const { tally, tallyView } = await loadProd();
  const query = new URLSearchParams([
    ["decider", `${tally.name}:${tally.version}`],
    ["projection", `${tallyView.name}:${tallyView.version}`],
  ]);
  const response = await fetch(
    `${sync.node}/v1/streams/${encodeURIComponent(stream)}/snapshots?${query}`,
    { headers: { authorization: `Bearer ${sync.token}` } },
  );
  const body = await response.text();
  if (!response.ok) throw new Error(`snapshots: ${response.status} ${body}`);
  const answer = JSON.parse(body) as {
    head: number;
    position: number;
    snapshots: { kind: string; name: string }[];
    unavailable: { kind: string; name: string; reason: string }[];
  };
  const served = answer.snapshots.map((s) => `${s.kind} ${s.name}`).join(" + ") || "none";
  const missing = answer.unavailable.map((s) => `${s.kind} ${s.name}: ${s.reason}`).join(", ");
  return `${served} at ${answer.position} of ${answer.head}${missing ? `; unavailable: ${missing}` : ""}`;
}

/**
 * A fresh device opened with the snapshot bootstrap on, as an app turns it on (sync's
 * `snapshots: { deciders, projections, backfill: "on-demand" }`). First read: synced up to
 * `head`, then the projection loaded; first command: executed after that; then its ack. `floor`
 * is the engine's history floor once acked: 0 means the device fell back to the full replay.
 */
async function snapshotBootstrap(
  name: string,
  sync: WorkerSync,
  stream: string,
  head: number,
): Promise<FirstUse & { floor: number }> {
  const { tally, tallyView } = await loadProd();
  const start = performance.now();
  const device = await openProd(name, { ...sync, snapshots: true });
  await until<SyncStatus>(
    (listener) => device.onSyncStatus(stream, listener),
    (status) => status.state === "synced" && status.confirmedHead === head,
  );
  const state = await device.load(tallyView, stream);
  const firstRead = performance.now() - start;
  if (state.count !== head) {
    throw new Error(`snapshot device read ${state.count} events, the stream holds ${head}`);
  }
  await device.execute(stream, tally, { type: "add", id: `first-${name}`, title: "First" });
  const firstCommand = performance.now() - start;
  await until<SyncStatus>(
    (listener) => device.onSyncStatus(stream, listener),
    (status) => status.pending === 0 && status.confirmedHead > head,
  );
  const firstAck = performance.now() - start;
  const floor = await historyFloor(stream);
  await device.close();
  return { firstRead, firstCommand, firstAck, floor };
}

it("new device on a 100,000-event stream: first read and first command, full catch-up vs snapshot", async () => {
  // The bench's node (bench/bench-node-setup.ts): it keeps snapshots of the bench app.
  const { url, token } = inject("benchNode");
  const { tally, tallyView } = await loadProd();
  // 500 events above the last snapshot (every 1,000): the bootstrap downloads a tail.
  const total = scaled(100_000, 1_000) + 500;
  const stream = `device:${run}`;
  const sync: WorkerSync = {
    node: url,
    token,
    online: true,
    streams: [stream],
    actor: "bench",
  };

  const seedStart = performance.now();
  await seed(url, token, stream, total);
  const seedMs = performance.now() - seedStart;

  // Full catch-up: a fresh database pulls every event (and keeps the projection current).
  const name = `bench-device-${run}`;
  const full = await firstUse(name, sync, stream, total);
  // The snapshot path runs after it, on the same stream (one event more: its first command).
  const warmStart = performance.now();
  const warmed = await warmSnapshots(sync, stream);
  const warmMs = performance.now() - warmStart;
  const snapshot = await snapshotBootstrap(`bench-device-snapshot-${run}`, sync, stream, total + 1);

  // The same device, cold-opened again with sync on: first read vs first command, each on a
  // fresh worker (two runs each, alternating).
  const reads: number[] = [];
  const commands: number[] = [];
  for (let round = 0; round < 2; round++) {
    let begin = performance.now();
    let chronicle = await openProd(name, sync);
    await chronicle.load(tallyView, stream);
    reads.push(performance.now() - begin);
    await chronicle.close();
    begin = performance.now();
    chronicle = await openProd(name, sync);
    await chronicle.execute(stream, tally, { type: "add", id: `cold${round}`, title: "Cold" });
    commands.push(performance.now() - begin);
    await chronicle.close();
  }

  const ms = (value: number) => Math.round(value);
  const rate = (value: number) => Math.round(total / (value / 1000));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const { firstRead, firstCommand, firstAck } = full;
  const coldRatio = mean(commands) / mean(reads);
  const speedup = firstRead / snapshot.firstRead;
  const fellBack = snapshot.floor <= 0;
  const snapshotTarget = fellBack
    ? `FELL BACK to the full replay (history floor ${snapshot.floor})`
    : `first read < 1 s: ${snapshot.firstRead < 1000 ? "met" : "NOT met"}; ` +
      `${speedup.toFixed(1)}x faster, >= 20x: ${speedup >= 20 ? "met" : "NOT met"}`;
  printBrowserTable(`New device, ${total.toLocaleString("en")}-event stream (${modeNote()})`, [
    {
      case: `seed over HTTP, ${pushSize} per push (not measured)`,
      "first read ms": "",
      "first command ms": "",
      "ack ms": ms(seedMs),
      "events/s": rate(seedMs),
      target: "",
    },
    {
      case: "full catch-up (from open)",
      "first read ms": ms(firstRead),
      "first command ms": ms(firstCommand),
      "ack ms": ms(firstAck),
      "events/s": rate(firstRead),
      target: "",
    },
    {
      case: `node warm-up: snapshots folded (not measured; ${warmed})`,
      "first read ms": "",
      "first command ms": "",
      "ack ms": ms(warmMs),
      "events/s": "",
      target: "",
    },
    {
      case: `snapshot bootstrap (from open; history floor ${snapshot.floor}, tail ${total + 1 - snapshot.floor})`,
      "first read ms": ms(snapshot.firstRead),
      "first command ms": ms(snapshot.firstCommand),
      "ack ms": ms(snapshot.firstAck),
      "events/s": "",
      target: snapshotTarget,
    },
    {
      case: "cold open of the synced device, 2 runs",
      "first read ms": reads.map(ms).join(", "),
      "first command ms": commands.map(ms).join(", "),
      "ack ms": "",
      "events/s": "",
      target: `command/read ${coldRatio.toFixed(2)}x, <= 1.5x: ${coldRatio <= 1.5 ? "met" : "NOT met"}`,
    },
  ]);
});

// Write-to-render latency with sync on, in Chromium (on-disk profile, production build): execute
// until a subscriber of the projection sees the new state, for a device without sync (the
// reference), online and synced with a live local node (`wrangler dev`, the browser tier's
// global setup), and offline with 0, 100 and 1,000 pending events. One sample of each mode in
// turn, each followed by a sample of the floor (postMessage -> 1-row IndexedDB commit in a worker
// -> reply) in the same page: every mode gets its own floor, taken under the same drift. Every
// sample, a command's or the floor's, follows the same pause after the sample before it: a
// sample taken at once after another pays for what that one left running (the floor taken at
// once after a command measured 1.55x the floor taken after the pause; commands taken at once
// after the floor, as this benchmark did before, 1.66-1.84x the floor against 1.24-1.54x).
// Prints a table; asserts nothing about speed.
import type { Chronicle } from "@chronicle/browser";
import type { SyncStatus } from "@chronicle/core";
import { inject, it } from "vitest";
import {
  createFloor,
  loadProd,
  modeNote,
  openProd,
  printBrowserTable,
  quantiles,
  scaled,
  until,
  type WorkerSync,
} from "./browser-kit.ts";

const run = crypto.randomUUID().slice(0, 8);

interface Mode {
  name: string;
  sync?: WorkerSync;
  /** Pending events written (offline) before the first sample. */
  pending: number;
  /** Wait for the node's ack after each sample (and time it). */
  ack: boolean;
}

interface OpenMode extends Mode {
  chronicle: Chronicle;
  stream: string;
  count: number;
  render: number[];
  acks: number[];
  floor: number[];
  listener?: (count: number) => void;
}

it("write-to-render with sync: online and synced, offline with 0 / 100 / 1,000 pending, vs the floor", async () => {
  const { url, tokens } = inject("syncNode");
  const { tally, tallyView } = await loadProd();
  const samples = scaled(100, 10);
  const warmup = 10;
  const settleMs = 20;
  const pause = () => new Promise((resolve) => setTimeout(resolve, settleMs));
  const online = { node: url, token: tokens.alice, online: true, actor: "alice" };
  const offline = { ...online, online: false };
  const pending = [0, scaled(100), scaled(1_000)];
  const modes: Mode[] = [
    { name: "no sync (reference)", pending: 0, ack: false },
    { name: "sync on, online, synced", sync: online, pending: 0, ack: true },
    ...pending.map((count) => ({
      name: `sync on, offline, ${count.toLocaleString("en")} pending`,
      sync: offline,
      pending: count,
      ack: false,
    })),
  ];
  const opened: OpenMode[] = [];
  for (const [index, mode] of modes.entries()) {
    const stream = `latency:${run}-${index}`;
    const sync = mode.sync && { ...mode.sync, streams: [stream] };
    const chronicle = await openProd(`bench-latency-${run}-${index}`, sync);
    const open: OpenMode = {
      ...mode,
      chronicle,
      stream,
      count: 0,
      render: [],
      acks: [],
      floor: [],
    };
    chronicle.subscribe(tallyView, stream, (state) => {
      open.count = state.count;
      open.listener?.(state.count);
    });
    if (mode.pending > 0) {
      await chronicle.execute(stream, tally, { type: "addMany", count: mode.pending, prefix: "p" });
      open.count = mode.pending;
    }
    if (sync) {
      const expected = sync.online ? "synced" : "offline";
      await until<SyncStatus>(
        (listener) => chronicle.onSyncStatus(stream, listener),
        (status) => status.state === expected && status.pending === mode.pending,
      );
    }
    opened.push(open);
  }
  const floor = createFloor(`bench-latency-floor-${run}`);

  for (let i = 0; i < samples + warmup; i++) {
    for (const mode of opened) {
      const target = mode.count + 1;
      const seen = new Promise<void>((resolve) => {
        mode.listener = (count) => count >= target && resolve();
      });
      const acked = mode.ack
        ? until<SyncStatus>(
            (listener) => mode.chronicle.onSyncStatus(mode.stream, listener),
            (status) => status.pending === 0 && status.confirmedHead >= target,
          )
        : undefined;
      // A pause, as between keystrokes, before every sample (the floor's below has one too).
      await pause();
      const start = performance.now();
      const executed = mode.chronicle.execute(mode.stream, tally, {
        type: "add",
        id: `i${i}`,
        title: `Item ${i}`,
      });
      await seen;
      const render = performance.now() - start;
      await executed;
      await acked;
      const ack = performance.now() - start;
      // What the command left to do in its worker is done (or shows in the floor sample taken
      // next, and in this mode's own floor column).
      await pause();
      const floorMs = await floor.sample();
      if (i < warmup) continue;
      mode.render.push(render);
      if (mode.ack) mode.acks.push(ack);
      mode.floor.push(floorMs);
    }
  }
  floor.close();
  for (const mode of opened) await mode.chronicle.close();

  const fmt = (ms: number) => ms.toFixed(2);
  const zeroPending = quantiles(opened[2]!.render).p50;
  // The same floor for every mode: all its samples, taken alternately with every mode's.
  const pooledFloor = quantiles(opened.flatMap((mode) => mode.floor));
  const rows = opened.flatMap((mode) => {
    const render = quantiles(mode.render);
    const ownFloor = quantiles(mode.floor);
    const ratio = render.p50 / pooledFloor.p50;
    const synced = mode.sync !== undefined;
    const targets = [synced ? `<= 1.5x floor: ${ratio <= 1.5 ? "met" : "NOT met"}` : ""];
    if (mode.pending === pending[2]) {
      const vsZero = render.p50 / zeroPending;
      targets.push(
        `${vsZero.toFixed(2)}x 0-pending, <= 1.2x: ${vsZero <= 1.2 ? "met" : "NOT met"}`,
      );
    }
    const row = {
      case: `${mode.name}${mode.pending || !mode.sync || mode.sync.online ? "" : " (+1 per sample)"}`,
      "p50 ms": fmt(render.p50),
      "p95 ms": fmt(render.p95),
      "x floor p50": ratio.toFixed(2),
      "floor p50 after this mode": fmt(ownFloor.p50),
      target: targets.filter(Boolean).join("; "),
    };
    if (!mode.ack) return [row];
    const ack = quantiles(mode.acks);
    return [
      row,
      {
        case: "  node ack (execute -> status synced)",
        "p50 ms": fmt(ack.p50),
        "p95 ms": fmt(ack.p95),
        "x floor p50": "",
        "floor p50 after this mode": "",
        target: "",
      },
    ];
  });
  printBrowserTable(
    `Write-to-render with sync (${modeNote()}; ${samples} samples per mode, one of each mode in ` +
      `turn, each followed by a floor sample; every sample ${settleMs} ms after the one before)`,
    [
      {
        case: "floor: postMessage -> 1-row IDB commit in a worker -> reply",
        "p50 ms": fmt(pooledFloor.p50),
        "p95 ms": fmt(pooledFloor.p95),
        "x floor p50": "1.00",
        "floor p50 after this mode": "",
        target: "",
      },
      ...rows,
    ],
  );
});

// A device following 500 streams, in Chromium (on-disk profile, production build), with a real
// local node: connections it holds, and how long a change to any one of them takes to reach it
// (p50/p95). Prints a table; asserts nothing about speed.
//
// The node (the browser tier's `wrangler dev`) gets 500 streams `follow-<run>:s-N`, one event
// each, pushed from the Node side (bench/node-push.ts: the node answers no CORS preflight). The
// device is the production build of bench/app/follow.worker.ts: the bench app synced with
// createSyncStarter's `follow` on the run's prefix; every WebSocket it opens is counted and
// reported on a BroadcastChannel, with the heads the node sends it. Then, one at a time, a change
// to a random stream is pushed (the timer starts before the push command): "heard" is when the
// node's new head reaches the worker's `onHeads` (reported to the page), "synced" is when this
// page's subscription to the stream's projection shows the new event. Nothing waits on time: each
// step awaits the event it needs.
import type { Chronicle } from "@chronicle/browser";
import { createEnvelope } from "@chronicle/core";
import { inject, it } from "vitest";
import { commands } from "vitest/browser";
import type { FollowReport } from "./app/follow.worker.ts";
import { loadProd, modeNote, printBrowserTable, quantiles, scaled, until } from "./browser-kit.ts";
import type { StreamPush } from "./node-push.ts";

const run = crypto.randomUUID().slice(0, 8);
const prefix = `follow-${run}:`;

/** One item.added of the bench app for `stream` (the node's push route takes envelopes). */
function itemPush(stream: string, id: string): StreamPush {
  const event = createEnvelope(
    stream,
    { type: "item.added", version: 1, data: { id, title: `Item ${id}` } },
    { actor: "writer", device: "writer" },
  );
  return { stream, events: [event] };
}

/** The bench app's item count on `stream`, as this page's subscriber sees it. */
function watchItems(
  device: Chronicle,
  view: Awaited<ReturnType<typeof loadProd>>["tallyView"],
  stream: string,
): { reach(count: number): Promise<void>; stop(): void } {
  let items = 0;
  const waiting = new Set<() => void>();
  const stop = device.subscribe(view, stream, (state) => {
    items = state.count;
    for (const check of waiting) check();
  });
  return {
    reach: (count) =>
      new Promise((resolve) => {
        const check = () => {
          if (items < count) return;
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      }),
    stop,
  };
}

it("a device following 500 streams: connections held, change latency", async () => {
  const { url, tokens } = inject("syncNode");
  const count = scaled(500, 10);
  const samples = Math.min(count, scaled(30, 5));
  const streams = Array.from({ length: count }, (_, i) => `${prefix}s-${i}`);

  const seeding = performance.now();
  await commands.pushEvents(
    url,
    tokens.bob,
    streams.map((stream) => itemPush(stream, `${stream}-1`)),
  );
  const seedMs = performance.now() - seeding;

  // What the worker reports: sockets held (the peak since this page last reset it), heads heard,
  // streams changed.
  const sockets = { held: 0, peak: 0 };
  const heads = new Map<string, number>();
  const changed = new Set<string>();
  const listeners = new Set<(report: FollowReport) => void>();
  const channel = new BroadcastChannel("chronicle-bench-follow");
  channel.onmessage = ({ data }: MessageEvent<FollowReport>) => {
    if (data.type === "sockets") {
      sockets.held = data.held;
      sockets.peak = Math.max(sockets.peak, data.held);
    }
    if (data.type === "heads") for (const { stream, head } of data.heads) heads.set(stream, head);
    if (data.type === "changed") changed.add(data.stream);
    for (const listener of listeners) listener(data);
  };
  const when = (match: () => boolean) =>
    until<FollowReport | undefined>((listener) => {
      listeners.add(listener);
      listener(undefined);
      return () => listeners.delete(listener);
    }, match);

  const { createChronicle, tallyView } = await loadProd();
  const query = new URLSearchParams({ node: url, token: tokens.alice, follow: prefix });
  const opening = performance.now();
  let chronicle: Chronicle | undefined;
  try {
    chronicle = await createChronicle({
      worker: new Worker(`/__prod/follow.worker.js?${query}`, { type: "module" }),
      name: `bench-follow-${run}`,
      persist: false,
    });
    const device = chronicle;
    // Every stream's head heard, then every stream caught up (its one event), then the syncs'
    // sockets closed: the steady state.
    await when(() => streams.every((stream) => heads.has(stream)));
    const headsMs = performance.now() - opening;
    await when(() => streams.every((stream) => changed.has(stream)));
    const caughtUpMs = performance.now() - opening;
    const catchUpPeak = sockets.peak;
    await when(() => sockets.held <= 1);
    const steady = sockets.held;

    const heard: number[] = [];
    const synced: number[] = [];
    let changePeak = 0;
    const order = [...streams].sort(() => Math.random() - 0.5).slice(0, samples);
    for (const [index, stream] of order.entries()) {
      const items = watchItems(device, tallyView, stream);
      await items.reach(1);
      sockets.peak = sockets.held;
      const started = performance.now();
      const headHeard = when(() => heads.get(stream) === 2).then(() => performance.now() - started);
      const shown = items.reach(2).then(() => performance.now() - started);
      await commands.pushEvents(url, tokens.bob, [itemPush(stream, `${stream}-2-${index}`)]);
      const [heardMs, syncedMs] = await Promise.all([headHeard, shown]);
      heard.push(heardMs);
      synced.push(syncedMs);
      changePeak = Math.max(changePeak, sockets.peak);
      items.stop();
      await when(() => sockets.held <= 1);
    }

    const heardQ = quantiles(heard);
    const syncedQ = quantiles(synced);
    const ms = (value: number) => value.toFixed(1);
    const within = (value: number) => (value <= 1000 ? "met" : "missed");
    printBrowserTable(
      `A device following ${count} streams over createSyncStarter's follow (${modeNote()}); ` +
        `seeded in ${Math.round(seedMs)} ms, all heads heard ${Math.round(headsMs)} ms and all ` +
        `caught up ${Math.round(caughtUpMs)} ms after open; ${samples} changes, one at a time`,
      [
        {
          case: "sockets held, steady state",
          value: String(steady),
          note: `peak ${catchUpPeak} while catching up (16 syncs at once), ${changePeak} during a change`,
        },
        {
          case: "change -> head heard (onHeads)",
          value: `p50 ${ms(heardQ.p50)} / p95 ${ms(heardQ.p95)} ms`,
          note: `target within 1 s: ${within(heardQ.p95)}`,
        },
        {
          case: "change -> synced (subscriber sees it)",
          value: `p50 ${ms(syncedQ.p50)} / p95 ${ms(syncedQ.p95)} ms`,
          note: `target within 1 s: ${within(syncedQ.p95)}`,
        },
      ],
    );
  } finally {
    await chronicle?.close();
    channel.close();
  }
});

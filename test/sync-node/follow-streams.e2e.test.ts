// Many streams over one connection, on a real node (`wrangler dev`): a device follows 500 streams
// with followStreams and its sync engine, holding one WebSocket (counted by the client itself, on
// every socket it opens: the follower's and the engine's), catches all of them up, and learns of
// a change to a random one from the watch socket, then syncs it. Nothing waits on time: each step
// awaits the event it needs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLocalLog } from "@chronicle/core";
import {
  createSyncEngine,
  createWebSocketTransport,
  followStreams,
  type StreamHead,
} from "@chronicle/sync";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { devToken, type RunningNode, startNode } from "./node-process.ts";
import { pushRetrying } from "./push-retrying.ts";
import { makeEvents } from "./ws-client.ts";

let node: RunningNode;
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-follow-"));

beforeAll(async () => {
  node = await startNode({ persistTo: stateDir });
});
afterAll(async () => {
  await node?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Every WebSocket the device opens goes through this class: `held` is how many are open. */
const sockets = { held: 0, peak: 0 };
const counted = new WeakSet<object>();
class CountingWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    counted.add(this);
    sockets.held += 1;
    sockets.peak = Math.max(sockets.peak, sockets.held);
    this.once("close", () => release(this));
  }
  override close(code?: number, reason?: string | Buffer): void {
    release(this);
    super.close(code, reason);
  }
}
function release(socket: object): void {
  if (counted.delete(socket)) sockets.held -= 1;
}

/** Pushes one event (sent again when `wrangler dev` cuts the request: see push-retrying.ts). */
async function push(stream: string, token: string, tag: string): Promise<void> {
  await pushRetrying(node.url, token, stream, makeEvents(stream, 1, tag));
}

it("follows 500 streams over one connection and syncs a change to any of them", async () => {
  const writer = await devToken(node, "writer", { "follow:*": "write" });
  const streams = Array.from(
    { length: 500 },
    (_, i) => `follow:board-${String(i).padStart(3, "0")}`,
  );
  // 500 streams exist on the node (32 pushes at a time).
  const seeding = performance.now();
  for (let start = 0; start < streams.length; start += 32) {
    await Promise.all(streams.slice(start, start + 32).map((stream) => push(stream, writer, "v1")));
  }
  const seeded = performance.now();

  const reader = await devToken(node, "device", { "follow:*": "read" });
  const local = new MemoryLocalLog();
  const transport = createWebSocketTransport({
    url: node.url,
    token: reader,
    WebSocket: CountingWebSocket,
  });
  const engine = createSyncEngine({ local, transport, device: "tablet", actor: "device" });
  const errors: unknown[] = [];
  const headListeners = new Set<(heads: StreamHead[]) => void>();
  const follower = followStreams({
    url: node.url,
    token: reader,
    prefix: "follow:",
    engine,
    local,
    concurrency: 16,
    WebSocket: CountingWebSocket,
    onError: (error, stream) => errors.push([stream, error]),
    onHeads: (heads) => {
      for (const listener of headListeners) listener(heads);
    },
  });
  try {
    await follower.ready();
    expect(follower.heads.size).toBe(500);
    // Every stream moved past the empty local log: all of them are caught up.
    await follower.idle();
    console.log(
      `500 streams: seeded in ${Math.round(seeded - seeding)} ms, followed and caught up in ${Math.round(performance.now() - seeded)} ms`,
    );
    const localHeads = await Promise.all(streams.map((stream) => local.confirmedHead(stream)));
    expect(localHeads.every((head) => head === 1)).toBe(true);
    expect(errors).toEqual([]);

    // Steady state: one connection for 500 streams.
    expect(follower.connections).toBe(1);
    expect(sockets.held).toBe(1);

    const target = streams[Math.floor(Math.random() * streams.length)]!;
    const started = performance.now();
    const noticed = new Promise<number>((resolve) => {
      const listener = (heads: StreamHead[]) => {
        if (!heads.some((entry) => entry.stream === target && entry.head === 2)) return;
        headListeners.delete(listener);
        resolve(performance.now() - started);
      };
      headListeners.add(listener);
    });
    const heard = new Promise<number>((resolve) => {
      const off = engine.onChange((stream) => {
        if (stream !== target) return;
        void local.confirmedHead(target).then((head) => {
          if (head === 2) {
            off();
            resolve(performance.now() - started);
          }
        });
      });
    });
    sockets.peak = sockets.held;
    await push(target, writer, "v2");
    const [heardAfter, syncedAfter] = await Promise.all([noticed, heard]);
    expect(follower.heads.get(target), target).toBe(2);
    // Within a second of the commit, the device knows (the push's answer leaves after it).
    expect(heardAfter).toBeLessThan(1000);
    console.log(
      `change to ${target}: head heard ${Math.round(heardAfter)} ms, synced ${Math.round(syncedAfter)} ms after its push started`,
    );
    // The change took one extra socket at most (the engine's syncOnce of that stream), closed after.
    expect(sockets.peak).toBeLessThanOrEqual(2);
    await follower.idle();
    expect(sockets.held).toBe(1);
    expect(follower.connections).toBe(1);
    expect((await local.readConfirmed(target)).map((event) => event.position)).toEqual([1, 2]);
  } finally {
    follower.close();
    engine.close();
  }
  expect(follower.connections).toBe(0);
  // Seeding and catching up 500 streams on a loaded 2-core machine: the time is theirs.
}, 300_000);

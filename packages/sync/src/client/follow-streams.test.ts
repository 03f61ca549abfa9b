// followStreams against a scripted watch socket and virtual timers: which streams it syncs and
// when (only those behind, a few at a time, never one twice at once), one socket, reconnecting
// with a fresh token after 4401 and getting every head again, stopping on a refusal it cannot
// fix, and the heartbeat. The real node and sockets: test/sync-node/follow-streams.e2e.test.ts.
import { type ChronicleError, MemoryLocalLog, type SyncContext } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account } from "../__fixtures__/account.ts";
import type { StreamHead, WatchFrame } from "../protocol/directory.ts";
import { createLoopbackTransport } from "../testing/loopback-transport.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import { followStreams } from "./follow-streams.ts";
import { createSyncEngine } from "./sync-engine.ts";
import { createSyncStarter } from "./sync-starter.ts";
import type { Scheduler } from "./transport.ts";

/** A watch socket the test plays the node of. */
class ScriptedSocket {
  static opened: ScriptedSocket[] = [];
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: string[] = [];
  closedByClient = false;

  constructor(readonly url: string) {
    ScriptedSocket.opened.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }
  // The node's side:
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(frame: WatchFrame | string): void {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }
  heads(streams: Array<[string, number]>, more?: boolean): void {
    const entries: StreamHead[] = streams.map(([stream, head]) => ({ stream, head }));
    this.frame(more ? { t: "heads", streams: entries, more } : { t: "heads", streams: entries });
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
  get token(): string | null {
    return new URL(this.url).searchParams.get("token");
  }
}

/** Virtual timers: `run()` fires every timer due within `ms` from now. */
function virtualTimers(): Scheduler & { run(ms: number): void; pending(): number } {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout(callback, ms) {
      nextId += 1;
      timers.set(nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    random: () => 0.5,
    run(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, timer]) => timer.at <= until)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}

/** The engine's syncOnce, answered by the test; the local log's heads. */
function fakeDevice(localHeads: Record<string, number> = {}) {
  const heads = new Map(Object.entries(localHeads));
  const calls: string[] = [];
  const inFlight = new Map<string, () => void>();
  let peak = 0;
  return {
    heads,
    calls,
    inFlight,
    get peak() {
      return peak;
    },
    engine: {
      syncOnce(stream: string): Promise<void> {
        calls.push(stream);
        expect(inFlight.has(stream), `${stream} synced twice at once`).toBe(false);
        return new Promise<void>((resolve) => {
          inFlight.set(stream, resolve);
          peak = Math.max(peak, inFlight.size);
        });
      },
    },
    local: { confirmedHead: async (stream: string) => heads.get(stream) ?? 0 },
    /** The node's head reaches the device: the sync of `stream` ends. */
    finish(stream: string, head: number) {
      heads.set(stream, head);
      const resolve = inFlight.get(stream)!;
      inFlight.delete(stream);
      resolve();
    },
  };
}

/** Lets queued promise callbacks run (the follower reads local heads asynchronously). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function follow(
  device: ReturnType<typeof fakeDevice> | undefined,
  extra: Partial<Parameters<typeof followStreams>[0]> = {},
) {
  ScriptedSocket.opened = [];
  const timers = virtualTimers();
  const errors: ChronicleError[] = [];
  const reported: StreamHead[][] = [];
  const follower = followStreams({
    url: "https://sync.test",
    prefix: "board:",
    token: "t1",
    WebSocket: ScriptedSocket,
    scheduler: timers,
    fetch: async () => new Response(null, { status: 503 }),
    ...(device ? { engine: device.engine, local: device.local } : {}),
    onError: (error) => errors.push(error),
    onHeads: (heads) => reported.push(heads),
    ...extra,
  });
  return { follower, timers, errors, reported };
}

async function socketAt(index: number): Promise<ScriptedSocket> {
  for (let tries = 0; tries < 50 && !ScriptedSocket.opened[index]; tries++) await settle();
  const socket = ScriptedSocket.opened[index];
  if (!socket) throw new Error(`no socket #${index} was opened`);
  return socket;
}

describe("followStreams", () => {
  it("watches the prefix over one socket with the token, and counts it", async () => {
    const { follower } = follow(undefined);
    const socket = await socketAt(0);
    expect(new URL(socket.url).pathname).toBe("/v1/watch");
    expect(new URL(socket.url).searchParams.get("prefix")).toBe("board:");
    expect(socket.url.startsWith("wss://sync.test/")).toBe(true);
    expect(socket.token).toBe("t1");
    expect(follower.connections).toBe(0);
    socket.open();
    expect(follower.connections).toBe(1);
    expect(follower.state).toBe("connecting");
    socket.heads([["board:1", 3]], true);
    socket.heads([["board:2", 1]]);
    await follower.ready();
    expect(follower.state).toBe("live");
    expect([...follower.heads]).toEqual([
      ["board:1", 3],
      ["board:2", 1],
    ]);
    follower.close();
    expect(socket.closedByClient).toBe(true);
    expect(follower.connections).toBe(0);
    expect(follower.state).toBe("closed");
  });

  it("syncs only the streams behind, a few at a time, never one twice at once", async () => {
    const device = fakeDevice({ "board:a": 3 });
    const { follower } = follow(device, { concurrency: 2 });
    const socket = await socketAt(0);
    socket.open();
    socket.heads([
      ["board:a", 3], // caught up already
      ["board:b", 2],
      ["board:c", 1],
      ["board:d", 1],
    ]);
    await settle();
    expect([...device.inFlight.keys()]).toEqual(["board:b", "board:c"]);
    // b moves again while it syncs: it is synced once more after, not twice at once.
    socket.heads([["board:b", 5]]);
    await settle();
    device.finish("board:b", 2);
    await settle();
    device.finish("board:c", 1);
    await settle();
    expect(new Set(device.inFlight.keys())).toEqual(new Set(["board:b", "board:d"]));
    device.finish("board:b", 5);
    device.finish("board:d", 1);
    await follower.idle();
    expect(device.calls.sort()).toEqual(["board:b", "board:b", "board:c", "board:d"]);
    expect(device.peak).toBe(2);
    // A head the device already has syncs nothing.
    socket.heads([["board:c", 1]]);
    await follower.idle();
    expect(device.calls).toHaveLength(4);
    follower.close();
  });

  it("syncs what shouldSync allows and reports every head", async () => {
    const device = fakeDevice();
    const { follower, reported } = follow(device, {
      shouldSync: (stream) => stream.endsWith("-open"),
    });
    const socket = await socketAt(0);
    socket.open();
    socket.heads([
      ["board:1-open", 1],
      ["board:2", 4],
    ]);
    await settle();
    expect([...device.inFlight.keys()]).toEqual(["board:1-open"]);
    expect(reported.flat().map((entry) => entry.stream)).toEqual(["board:1-open", "board:2"]);
    device.finish("board:1-open", 1);
    await follower.idle();
    follower.close();
  });

  it("reconnects at once with a fresh token after 4401 and catches up from the heads it gets again", async () => {
    const device = fakeDevice();
    let issued = 0;
    const { follower, timers } = follow(device, { token: () => `t${++issued}` });
    const first = await socketAt(0);
    first.open();
    first.heads([["board:1", 1]]);
    await settle();
    device.finish("board:1", 1);
    await follower.idle();
    // The token expires: the node says so, then closes with 4401.
    first.frame({ t: "error", code: "unauthorized", message: "token expired" });
    first.serverClose(4401);
    expect(follower.connections).toBe(0);
    timers.run(0);
    const second = await socketAt(1);
    expect(second.token).toBe("t2");
    second.open();
    // Meanwhile board:1 moved and board:2 appeared: the heads on connecting say so.
    second.heads([
      ["board:1", 4],
      ["board:2", 1],
    ]);
    await settle();
    expect(new Set(device.inFlight.keys())).toEqual(new Set(["board:1", "board:2"]));
    device.finish("board:1", 4);
    device.finish("board:2", 1);
    await follower.idle();
    expect(follower.connections).toBe(1);
    expect(ScriptedSocket.opened).toHaveLength(2);
    follower.close();
  });

  it("backs off after a dropped connection, and closes a silent one after two heartbeats", async () => {
    const { follower, timers } = follow(undefined, { heartbeatMs: 1000 });
    const first = await socketAt(0);
    first.open();
    first.heads([]);
    timers.run(1000);
    expect(first.sent).toEqual(["ping"]);
    timers.run(2000); // two more silent beats
    expect(first.closedByClient).toBe(true);
    expect(follower.connections).toBe(0);
    // The first retry waits 250 ms x jitter (0.75 here).
    timers.run(180);
    expect(ScriptedSocket.opened).toHaveLength(1);
    timers.run(10);
    const second = await socketAt(1);
    second.open();
    second.frame("pong");
    second.heads([]);
    expect(follower.state).toBe("live");
    follower.close();
  });

  it("stops when the node refuses the prefix or the token's grants (asked over HTTP)", async () => {
    const asked: string[] = [];
    const { follower, timers, errors } = follow(undefined, {
      fetch: async (url, init) => {
        asked.push(`${String(url)} ${JSON.stringify(init?.headers)}`);
        return new Response(JSON.stringify({ code: "forbidden", message: "no" }), { status: 403 });
      },
    });
    const socket = await socketAt(0);
    socket.serverClose(1006); // a browser sees this whatever the cause
    for (let tries = 0; tries < 20 && follower.state !== "error"; tries++) await settle();
    expect(follower.state).toBe("error");
    expect(asked).toEqual([
      'https://sync.test/v1/streams?prefix=board%3A&limit=1 {"authorization":"Bearer t1"}',
    ]);
    expect(errors.map((error) => error.code)).toEqual(["forbidden"]);
    timers.run(60_000);
    expect(ScriptedSocket.opened).toHaveLength(1);
    follower.close();
  });

  it("runs in the host's sync starter: a followed stream that moves is synced into the host's log", async () => {
    const node = new MemoryNode();
    // Another device writes account:7 while this one is away.
    const other = createSyncEngine({
      local: new MemoryLocalLog(),
      transport: createLoopbackTransport(node),
      device: "other",
    });
    await other.execute("account:7", account, { deposit: 5 });
    await other.syncOnce("account:7");
    ScriptedSocket.opened = [];
    const local = new MemoryLocalLog();
    const statuses = new Set<string>();
    let changed!: () => void;
    const changedOnce = new Promise<void>((resolve) => {
      changed = resolve;
    });
    const context = {
      deviceId: "me",
      actor: "me",
      localLog: local,
      deciders: [account],
      onLocalWrite: () => () => {},
      changed: (stream: string) => {
        if (stream === "account:7") changed();
      },
      reportStatus: (stream: string) => statuses.add(stream),
      reportRejected: () => {},
    } as unknown as SyncContext;
    const handle = await createSyncStarter({
      transport: createLoopbackTransport(node),
      followNetwork: false,
      follow: {
        url: "https://sync.test",
        prefixes: ["account:"],
        WebSocket: ScriptedSocket,
        scheduler: virtualTimers(),
      },
    })(context);
    const socket = await socketAt(0);
    expect(new URL(socket.url).searchParams.get("prefix")).toBe("account:");
    socket.open();
    socket.heads([["account:7", node.log("account:7").length]]);
    await changedOnce;
    expect(await local.confirmedHead("account:7")).toBe(1);
    expect(statuses.has("account:7")).toBe(true);
    await handle.stop();
    expect(socket.closedByClient).toBe(true);
  });

  it("needs the engine's local log to sync", () => {
    expect(() =>
      followStreams({ url: "https://sync.test", prefix: "board:", engine: fakeDevice().engine }),
    ).toThrow(/local/);
  });
});

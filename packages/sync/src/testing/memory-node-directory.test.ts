// MemoryNode serves what the real node's directory serves (docs/architecture.md, "Many streams"),
// over a MemoryNetwork as an app's device reaches it: listing by prefix, page by page, filtered by
// the token's grants, with the node's coded errors; the watch socket that lets `followStreams`
// follow hundreds of streams over one connection; and the node's snapshot pruning. The real
// node's cases: test/sync-node/follow-streams.e2e.test.ts, worker/test (directory, snapshots).
import {
  type ChronicleError,
  foldEvents,
  initialStateOf,
  isChronicleError,
  MemoryLocalLog,
} from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account } from "../__fixtures__/account.ts";
import { networkDevice } from "../__fixtures__/network-device.ts";
import { followStreams } from "../client/follow-streams.ts";
import { createSyncEngine, type SyncEngine } from "../client/sync-engine.ts";
import type { WebSocketConstructor } from "../client/websocket-transport.ts";
import {
  type StreamHead,
  type StreamsResponse,
  streamsPage,
  type WatchFrame,
} from "../protocol/directory.ts";
import { defaultLimits } from "../protocol/limits.ts";
import { MemoryNetwork } from "./memory-network.ts";
import { MemoryNode, type MemoryNodeCaller, type MemoryNodeOptions } from "./memory-node.ts";

const URL_OF_NODE = "http://memory-node";

/** Tokens the node's `auth` knows, by name. */
const tokens: Record<string, MemoryNodeCaller> = {
  writer: { sub: "writer" },
  boards: { sub: "reader", streams: { "board:*": "read" } },
  tens: { sub: "tens", streams: { "board:01*": "read" } },
  two: { sub: "two", streams: { "board:005": "read", "board:011": "write", "doc:1": "write" } },
  docs: { sub: "docs", streams: { "doc:*": "read" } },
};

function world(options: MemoryNodeOptions = {}) {
  const node = new MemoryNode({ auth: (token) => tokens[token ?? ""], ...options });
  const network = new MemoryNetwork(node, 7);
  const device = (name: string, token = "writer") => networkDevice(network, name, { token });
  /** Runs the network until `promise` settles (virtual time moves only when no frame waits). */
  const until = async <T>(promise: Promise<T>): Promise<T> => {
    let settled = false;
    const settle = () => {
      settled = true;
    };
    promise.then(settle, settle);
    for (let round = 0; round < 10_000 && !settled; round++) {
      await network.run({ until: network.now + 60_000 });
      // Lets the local log's promise chains queue their next frames.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (!settled) throw new Error("the network ran out of work before the awaited result");
    return promise;
  };
  /** One deposit to each stream, pushed (`syncOnce`, as a `written: "once"` app). */
  const write = async (engine: SyncEngine, streams: readonly string[], amount = 1) => {
    for (const stream of streams) await engine.execute(stream, account, { deposit: amount });
    await until(Promise.all(streams.map((stream) => engine.syncOnce(stream))));
  };
  return { node, network, device, until, write };
}

const boards = (count: number) =>
  Array.from({ length: count }, (_, i) => `board:${String(i).padStart(3, "0")}`);

/** The coded error `run` throws. */
function thrown(run: () => unknown): ChronicleError {
  try {
    run();
  } catch (error) {
    if (isChronicleError(error)) return error;
    throw error;
  }
  throw new Error("expected a coded error");
}

/** Every page of a listing, following `next`. */
function allPages(node: MemoryNode, query: Record<string, string>, token: string) {
  const pages: StreamsResponse[] = [];
  let after: string | undefined;
  do {
    const page = node.listStreams(after === undefined ? query : { ...query, after }, { token });
    pages.push(page);
    after = page.next;
  } while (after !== undefined);
  return pages;
}

describe("MemoryNode's stream listing (GET /v1/streams)", () => {
  it("lists the streams under a prefix in id order, page by page, with their heads and epochs", async () => {
    const w = world();
    const writer = w.device("writer");
    const streams = boards(streamsPage.defaultLimit + 5);
    await w.write(writer.engine, [...streams].reverse());
    await w.write(writer.engine, ["board:003", "doc:1", "boardroom:1"]);

    const pages = allPages(w.node, { prefix: "board:", limit: "25" }, "writer");
    expect(pages.map((page) => page.streams.length)).toEqual([25, 25, 25, 25, 5]);
    expect(pages.map((page) => page.next)).toEqual([
      "board:024",
      "board:049",
      "board:074",
      "board:099",
      undefined,
    ]);
    // A full last page has no `next`: the node looks one past it.
    const whole = allPages(w.node, { prefix: "board:", limit: String(streams.length) }, "writer");
    expect(whole.map((page) => [page.streams.length, page.next])).toEqual([
      [streams.length, undefined],
    ]);
    const listed = pages.flatMap((page) => page.streams);
    expect(listed.map((entry) => entry.stream)).toEqual(streams);
    for (const entry of listed) {
      expect(entry).toEqual({
        stream: entry.stream,
        head: w.node.log(entry.stream).length,
        epoch: w.node.epoch(entry.stream),
      });
    }
    expect(listed.find((entry) => entry.stream === "board:003")?.head).toBe(2);

    // Without `limit`, the protocol's default page; a narrower prefix lists only its streams.
    const first = w.node.listStreams({ prefix: "board:" }, { token: "writer" });
    expect(first.streams).toHaveLength(streamsPage.defaultLimit);
    expect(first.next).toBe(streams[streamsPage.defaultLimit - 1]);
    const tens = w.node.listStreams({ prefix: "board:01" }, { token: "writer" });
    expect(tens.streams.map((entry) => entry.stream)).toEqual(streams.slice(10, 20));
    expect(tens.next).toBeUndefined();
    // A stream enters the directory at its first commit: none yet under `note:`.
    expect(w.node.listStreams({ prefix: "note:" }, { token: "writer" })).toEqual({ streams: [] });
  });

  it("shows a token only the streams its grants may read, and refuses one that reads none there", async () => {
    const w = world();
    await w.write(w.device("writer").engine, [...boards(30), "doc:1", "doc:2"]);
    const names = (token: string, prefix = "board:") =>
      allPages(w.node, { prefix, limit: "4" }, token)
        .flatMap((page) => page.streams)
        .map((entry) => entry.stream);

    expect(names("boards")).toEqual(boards(30));
    expect(names("tens")).toEqual(boards(20).slice(10));
    expect(names("two")).toEqual(["board:005", "board:011"]);
    expect(names("two", "doc:")).toEqual(["doc:1"]);
    // A page is cut by what the token reads, not by the rows skipped: `next` only when more
    // readable streams follow.
    expect(w.node.listStreams({ prefix: "board:", limit: "1" }, { token: "two" })).toMatchObject({
      next: "board:005",
    });
    expect(w.node.listStreams({ prefix: "board:01", limit: "1" }, { token: "two" })).toEqual({
      streams: [{ stream: "board:011", head: 1, epoch: w.node.epoch("board:011") }],
    });

    const forbidden = thrown(() => w.node.listStreams({ prefix: "board:" }, { token: "docs" }));
    expect(forbidden.code).toBe("forbidden");
    expect(forbidden.details).toMatchObject({ prefix: "board:", needed: "read" });
    expect(thrown(() => w.node.listStreams({ prefix: "board:" })).code).toBe("unauthorized");
    expect(thrown(() => w.node.listStreams({ prefix: "board:" }, { token: "nope" })).code).toBe(
      "unauthorized",
    );
    // The token is checked before the query, as on the node.
    expect(thrown(() => w.node.listStreams({ prefix: "board" })).code).toBe("unauthorized");
  });

  it("answers a device's fetch as the node's HTTP route: the page, or the error's status and coded body", async () => {
    const w = world();
    await w.write(w.device("writer").engine, boards(12));
    const reader = w.device("reader", "two");
    const get = async (query: string, token?: string) => {
      const response = await w.until(
        reader.transport.fetch(`${URL_OF_NODE}/v1/streams?${query}`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        }),
      );
      return { status: response.status, body: await response.json() };
    };

    expect(await get("prefix=board%3A", "two")).toEqual({
      status: 200,
      body: {
        streams: [
          { stream: "board:005", head: 1, epoch: w.node.epoch("board:005") },
          { stream: "board:011", head: 1, epoch: w.node.epoch("board:011") },
        ],
      },
    });
    expect(await get("prefix=board%3A&limit=1", "two")).toMatchObject({
      status: 200,
      body: { next: "board:005" },
    });
    expect(await get("prefix=board%3A&limit=0", "two")).toMatchObject({
      status: 400,
      body: { code: "validation", path: "limit" },
    });
    expect(await get("prefix=board%3A", "docs")).toMatchObject({
      status: 403,
      body: { code: "forbidden", prefix: "board:", needed: "read" },
    });
    // The token goes in `Authorization`; one in the query is no token (401).
    expect(await get("prefix=board%3A&token=two")).toMatchObject({
      status: 401,
      body: { code: "unauthorized" },
    });

    reader.transport.online = false;
    await expect(w.until(reader.transport.fetch(`${URL_OF_NODE}/v1/streams`))).rejects.toThrow(
      TypeError,
    );
  });

  it("refuses a bad query with `validation` naming the parameter, on listing and watching alike", () => {
    const node = new MemoryNode();
    const cases: [Record<string, string>, string][] = [
      [{}, "prefix"],
      [{ prefix: "board" }, "prefix"], // no ':': not a space
      [{ prefix: ":board" }, "prefix"], // not the start of a stream id
      [{ prefix: "board:", limit: "0" }, "limit"],
      [{ prefix: "board:", limit: String(streamsPage.maxLimit + 1) }, "limit"],
      [{ prefix: "board:", limit: "ten" }, "limit"],
      [{ prefix: "board:", after: "board 7" }, "after"],
    ];
    for (const [query, path] of cases) {
      const error = thrown(() => node.listStreams(query));
      expect([error.code, error.details.path], JSON.stringify(query)).toEqual(["validation", path]);
    }
    for (const [query, path] of cases.slice(0, 3)) {
      const error = thrown(() => node.watch(query, () => {}));
      expect([error.code, error.details.path], JSON.stringify(query)).toEqual(["validation", path]);
    }
  });
});

describe("MemoryNode's watch socket (GET /v1/watch)", () => {
  it("sends the readable heads under the prefix on connecting, in frames under the frame limit, then each stream that moves", async () => {
    const w = world({ limits: { ...defaultLimits, maxFrameBytes: 4096 } });
    const writer = w.device("writer");
    await w.write(writer.engine, [...boards(200), "doc:1"]);
    const texts: string[] = [];
    const socket = w.node.watch({ prefix: "board:" }, (text) => texts.push(text), {
      token: "tens",
    });
    const taken = () => texts.splice(0).map((text) => JSON.parse(text) as WatchFrame);
    const first = taken();
    expect(first.map((frame) => frame.t === "heads" && frame.more)).toEqual([undefined]);
    expect(first.flatMap((frame) => (frame.t === "heads" ? frame.streams : []))).toEqual(
      boards(20)
        .slice(10)
        .map((stream) => ({ stream, head: 1, epoch: w.node.epoch(stream) })),
    );

    const all: string[] = [];
    const everything = w.node.watch({ prefix: "board:" }, (text) => all.push(text), {
      token: "boards",
    });
    for (const text of all) expect(new TextEncoder().encode(text).byteLength).toBeLessThan(4096);
    const frames = all.map((text) => JSON.parse(text) as WatchFrame);
    expect(frames.length).toBeGreaterThan(1); // 200 heads do not fit one 4 KB frame
    expect(frames.map((frame) => frame.t === "heads" && frame.more)).toEqual([
      ...frames.slice(1).map(() => true),
      undefined,
    ]);
    expect(frames.flatMap((frame) => (frame.t === "heads" ? frame.streams : []))).toEqual(
      boards(200).map((stream) => ({ stream, head: 1, epoch: w.node.epoch(stream) })),
    );

    // Moves: only the readable streams under the prefix are told.
    await w.write(writer.engine, ["board:013", "board:150", "doc:1"]);
    expect(taken()).toEqual([
      { t: "heads", streams: [{ stream: "board:013", head: 2, epoch: w.node.epoch("board:013") }] },
    ]);
    // The client sends nothing but heartbeats.
    socket.receive("ping");
    expect(texts.splice(0)).toEqual(["pong"]);
    socket.receive(JSON.stringify({ t: "hello", after: 0 }));
    expect(taken()).toMatchObject([{ t: "error", code: "protocol" }]);
    socket.close();
    await w.write(writer.engine, ["board:014"]);
    expect(texts).toEqual([]);
    everything.close();
  });

  it("ends a socket at its token's expiry: an `unauthorized` frame, then close code 4401", async () => {
    let now = 0;
    const timers: { at: number; callback: () => void }[] = [];
    const node = new MemoryNode({
      now: () => now,
      auth: (token) =>
        token?.startsWith("t:") ? { expiresAt: Number(token.slice(2)) } : undefined,
      scheduler: {
        setTimeout: (callback, ms) => timers.push({ at: now + ms, callback }),
        clearTimeout: () => {},
      },
    });
    const texts: string[] = [];
    const closes: number[] = [];
    node.watch({ prefix: "board:" }, (text) => texts.push(text), {
      token: "t:1000",
      onClose: (code) => closes.push(code),
    });
    expect(texts.splice(0)).toEqual([JSON.stringify({ t: "heads", streams: [] })]);
    now = 1000;
    for (const timer of timers.splice(0)) timer.callback();
    expect(texts.map((text) => JSON.parse(text))).toEqual([
      { t: "error", code: "unauthorized", message: "token expired" },
    ]);
    expect(closes).toEqual([4401]);
    expect(thrown(() => node.watch({ prefix: "board:" }, () => {}, { token: "t:1000" })).code).toBe(
      "unauthorized",
    );
  });
});

describe("followStreams over a MemoryNetwork", () => {
  /** A device following `prefix` as an app does, its WebSocket class counting the sockets it opens. */
  const follower = (
    w: ReturnType<typeof world>,
    token: string | (() => string),
    prefix: string,
  ) => {
    const local = new MemoryLocalLog();
    const transport = w.network.transport({ token });
    const engine = createSyncEngine({
      local,
      transport,
      device: "tablet",
      scheduler: w.network.scheduler,
    });
    const sockets = { opened: 0 };
    const Counting = class {
      constructor(url: string) {
        sockets.opened += 1;
        // biome-ignore lint/correctness/noConstructorReturn: counts the class's sockets
        return new transport.WebSocket(url) as object;
      }
    } as unknown as WebSocketConstructor;
    const heads: StreamHead[][] = [];
    const errors: [string | undefined, ChronicleError][] = [];
    const listeners = new Set<() => void>();
    /** Resolves at the first heads or error that makes `met` true (checked at once too). */
    const when = (met: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!met()) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      });
    const follow = followStreams({
      url: URL_OF_NODE,
      token,
      prefix,
      engine,
      local,
      concurrency: 16,
      WebSocket: Counting,
      fetch: transport.fetch,
      scheduler: w.network.scheduler,
      onHeads: (entries) => {
        heads.push(entries);
        for (const listener of [...listeners]) listener();
      },
      onError: (error, stream) => {
        errors.push([stream, error]);
        for (const listener of [...listeners]) listener();
      },
    });
    return { local, transport, engine, follow, sockets, heads, errors, when };
  };

  it("follows 200 streams over one watch socket, catches them up, and syncs a change to any of them", async () => {
    const w = world();
    const writer = w.device("writer");
    const streams = boards(200);
    await w.write(writer.engine, [...streams, "doc:1"]);

    const device = follower(w, "boards", "board:");
    try {
      await w.until(device.follow.ready());
      expect(device.follow.state).toBe("live");
      expect(device.follow.heads.size).toBe(200);
      await w.until(device.follow.idle());
      const localHeads = await Promise.all(streams.map((s) => device.local.confirmedHead(s)));
      expect(localHeads.every((head) => head === 1)).toBe(true);
      expect(await device.local.confirmedHead("doc:1")).toBe(0);
      expect(device.follow.connections).toBe(1);
      expect(device.errors).toEqual([]);

      // Another device writes to one of them: the watch socket tells, the engine syncs it.
      const target = "board:137";
      const synced = new Promise<void>((resolve) => {
        const off = device.engine.onChange((stream) => {
          if (stream !== target) return;
          void device.local.confirmedHead(target).then((head) => {
            if (head !== 2) return;
            off();
            resolve();
          });
        });
      });
      device.heads.length = 0;
      await w.write(writer.engine, [target, "doc:1"]);
      await w.until(synced);
      expect(device.heads).toEqual([[{ stream: target, head: 2, epoch: w.node.epoch(target) }]]);
      expect(device.follow.heads.get(target)).toBe(2);
      expect((await device.local.readConfirmed(target)).map((event) => event.position)).toEqual([
        1, 2,
      ]);
      const balance = foldEvents(
        account,
        initialStateOf(account),
        await device.local.readConfirmed(target),
      ).balance;
      expect(balance).toBe(2);
      await w.until(device.follow.idle());
      expect(device.sockets.opened).toBe(1);
      expect(device.follow.connections).toBe(1);
    } finally {
      device.follow.close();
      device.engine.close();
    }
    expect(device.follow.connections).toBe(0);
  });

  it("reconnects with a fresh token when the node ends the watch socket at its expiry, and hears the current heads again", async () => {
    let network: MemoryNetwork | undefined;
    const w = world({
      now: () => network?.now ?? 0,
      // The node's expiry timers run on the network's virtual time.
      scheduler: {
        setTimeout: (callback, ms) => network!.scheduler.setTimeout(callback, ms),
        clearTimeout: (handle) => network?.scheduler.clearTimeout(handle),
      },
      auth: (token) =>
        token === "writer"
          ? { sub: "writer" }
          : token?.startsWith("t:")
            ? { sub: "reader", expiresAt: Number(token.slice(2)), streams: { "board:*": "read" } }
            : undefined,
    });
    network = w.network;
    await w.write(w.device("writer").engine, boards(3));
    let issued = 0;
    const device = follower(w, () => `t:${w.network.now + 600_000 * ++issued}`, "board:");
    try {
      await w.until(device.follow.ready());
      expect(device.follow.heads.size).toBe(3);
      expect(device.sockets.opened).toBe(1);
      // At the first token's expiry the node ends the socket (an `unauthorized` frame, 4401)...
      await w.until(device.when(() => device.errors.length > 0));
      expect(device.errors.map(([, error]) => error.details.code)).toEqual(["unauthorized"]);
      const heard = device.heads.length;
      // ...and the follower reconnects at once with a fresh token and hears every head again.
      await w.until(device.when(() => device.heads.length > heard));
      expect(device.heads.at(-1)!.map((entry) => entry.stream)).toEqual(boards(3));
      expect(device.sockets.opened).toBe(2);
      expect(device.follow.state).toBe("live");
      expect(w.network.now).toBeGreaterThanOrEqual(600_000);
    } finally {
      device.follow.close();
      device.engine.close();
    }
  });

  it("stops with `forbidden` when the token reads nothing under the prefix, and `validation` for a bad prefix", async () => {
    const w = world();
    const forbidden = follower(w, "docs", "board:");
    const invalid = follower(w, "boards", "board");
    try {
      const stopped = async (device: typeof forbidden) => {
        await w.until(device.when(() => device.follow.state === "error"));
        return device.errors.at(-1)![1];
      };
      expect((await stopped(forbidden)).code).toBe("forbidden");
      expect((await stopped(invalid)).code).toBe("validation");
      expect(forbidden.follow.connections).toBe(0);
    } finally {
      for (const device of [forbidden, invalid]) {
        device.follow.close();
        device.engine.close();
      }
    }
  });

  it("tells a browser's follower, whose WebSocket cannot see a refused upgrade, why through the listing route", async () => {
    const w = world();
    const transport = w.network.transport({ token: "docs" });
    // A browser's WebSocket: no `unexpected-response`, only a close before opening.
    const Browser = class {
      constructor(url: string) {
        const socket = new transport.WebSocket(url) as { on?: unknown };
        socket.on = undefined;
        // biome-ignore lint/correctness/noConstructorReturn: wraps the network's socket
        return socket;
      }
    } as unknown as WebSocketConstructor;
    const asked: string[] = [];
    const errors: ChronicleError[] = [];
    let stopped = () => {};
    const done = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const follower = followStreams({
      url: URL_OF_NODE,
      token: "docs",
      prefix: "board:",
      WebSocket: Browser,
      fetch: (input, init) => {
        asked.push(String(input));
        return transport.fetch(input, init);
      },
      scheduler: w.network.scheduler,
      // The follower stops (state `error`) before it reports a final refusal.
      onError: (error) => {
        errors.push(error);
        if (follower.state === "error") stopped();
      },
    });
    try {
      await w.until(done);
      expect(errors.map((error) => error.code)).toEqual(["forbidden"]);
      expect(asked).toEqual([`${URL_OF_NODE}/v1/streams?prefix=board%3A&limit=1`]);
    } finally {
      follower.close();
    }
  });
});

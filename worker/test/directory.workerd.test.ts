// Many streams (docs/architecture.md, "Many streams"): the StreamDirectory hears every commit of
// its space (duplicates and late notices keep the highest head), `GET /v1/streams` lists streams
// by prefix, paged and filtered by the token's grants, with coded errors for bad queries and
// auth; `GET /v1/watch` sends the current heads, then the heads that move, to readers only, and
// closes at the token's expiry.
import { runInDurableObject } from "cloudflare:test";
import {
  parseWatchFrame,
  type StreamHead,
  streamsResponse,
  type WatchFrame,
} from "@chronicle/sync/protocol";
import { describe, expect, it } from "vitest";
import { createSyncNode } from "../src/index.ts";
import {
  connect,
  events,
  fetchApp,
  fetchNode,
  nextReq,
  nodeEnv,
  pushHttp,
  type TestApp,
  token,
} from "./node-client.ts";

let spaceCounter = 0;
/** A space no other test uses. */
function freshSpace(name = "space"): string {
  spaceCounter += 1;
  return `${name}${Date.now().toString(36)}${spaceCounter}`;
}

const directoryOf = (space: string) =>
  nodeEnv.STREAM_DIRECTORY!.get(nodeEnv.STREAM_DIRECTORY!.idFromName(space));

/** A watch socket: every frame it received, and a way to await the next ones. */
class WatchSocket {
  readonly received: WatchFrame[] = [];
  #waiters: Array<() => void> = [];
  readonly closed: Promise<CloseEvent>;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      if (event.data === "pong") return;
      this.received.push(parseWatchFrame(event.data));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  }

  /** Resolves once the heads received (in order, the latest winning) satisfy `done`. */
  async until(done: (heads: Map<string, number>) => boolean): Promise<Map<string, number>> {
    for (;;) {
      const heads = new Map<string, number>();
      for (const frame of this.received) {
        if (frame.t === "heads")
          for (const entry of frame.streams) heads.set(entry.stream, entry.head);
      }
      if (done(heads)) return heads;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Resolves once the initial heads (the frames up to the first without `more`) are in. */
  async initial(): Promise<StreamHead[]> {
    for (;;) {
      const end = this.received.findIndex((frame) => frame.t === "heads" && !frame.more);
      if (end >= 0) {
        return this.received
          .slice(0, end + 1)
          .flatMap((frame) => (frame.t === "heads" ? frame.streams : []));
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

async function watch(prefix: string, tokenValue?: string, app?: TestApp): Promise<WatchSocket> {
  const query = `?prefix=${encodeURIComponent(prefix)}&token=${encodeURIComponent(tokenValue ?? (await token()))}`;
  const init = { headers: { Upgrade: "websocket" } };
  const response = app
    ? await fetchApp(app, `/v1/watch${query}`, init)
    : await fetchNode(`/v1/watch${query}`, init);
  if (!response.webSocket) {
    throw Object.assign(new Error(`upgrade refused: ${response.status}`), {
      status: response.status,
      body: await response.json(),
    });
  }
  response.webSocket.accept();
  return new WatchSocket(response.webSocket);
}

async function list(query: string, tokenValue?: string) {
  const response = await fetchNode(`/v1/streams${query}`, {
    headers: { Authorization: `Bearer ${tokenValue ?? (await token())}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Every page of a listing, following `next`. */
async function listAll(prefix: string, limit: number, tokenValue?: string) {
  const pages: StreamHead[][] = [];
  let after = "";
  for (;;) {
    const { status, body } = await list(
      `?prefix=${prefix}&limit=${limit}${after ? `&after=${after}` : ""}`,
      tokenValue,
    );
    expect(status).toBe(200);
    const page = streamsResponse.parse(body);
    pages.push(page.streams);
    if (page.next === undefined) return pages;
    after = page.next;
  }
}

describe("the directory hears commits", () => {
  it("learns each stream's head from HTTP and socket pushes, with its epoch", async () => {
    const space = freshSpace();
    const watcher = await watch(`${space}:`);
    expect(await watcher.initial()).toEqual([]);
    const [a, b] = [`${space}:a`, `${space}:b`];
    expect((await pushHttp(a, { events: events(a, 2) })).status).toBe(200);
    const socket = await connect(b);
    const { epoch } = await socket.hello();
    await socket.request({ t: "push", req: nextReq(), events: events(b, 3) });
    await socket.request({ t: "push", req: nextReq(), events: events(b, 1) });
    await watcher.until((heads) => heads.get(a) === 2 && heads.get(b) === 4);

    const { body } = await list(`?prefix=${space}:`);
    const page = streamsResponse.parse(body);
    expect(page.streams.map(({ stream, head }) => [stream, head])).toEqual([
      [a, 2],
      [b, 4],
    ]);
    expect(page.streams[1]!.epoch).toBe(epoch);
    expect(page.next).toBeUndefined();
  });

  it("keeps the highest head through duplicate and out-of-order notices", async () => {
    const space = freshSpace();
    const stream = `${space}:x`;
    const directory = directoryOf(space);
    const notice = async (head: number, epoch: string) =>
      (await directory.notice(space, stream, head, epoch)) as unknown;
    expect(await notice(5, "e1")).toEqual({ ok: true, value: true });
    expect(await notice(3, "e1")).toEqual({ ok: true, value: false });
    expect(await notice(5, "e1")).toEqual({ ok: true, value: false });
    expect(await notice(7, "e1")).toEqual({ ok: true, value: true });
    expect(await notice(6, "e1")).toEqual({ ok: true, value: false });
    const { body } = await list(`?prefix=${space}:`);
    expect(body).toEqual({ streams: [{ stream, head: 7, epoch: "e1" }] });
    // A recreated log (another epoch) starts over, even at a lower head.
    expect(await notice(2, "e2")).toEqual({ ok: true, value: true });
    expect((await list(`?prefix=${space}:`)).body).toEqual({
      streams: [{ stream, head: 2, epoch: "e2" }],
    });
  });

  it("sends a notice that was lost (the log stopped before it) from the log's alarm", async () => {
    const space = freshSpace();
    const stream = `${space}:lost`;
    const first = await watch(`${space}:`);
    await first.initial();
    await pushHttp(stream, { events: events(stream, 2) });
    await first.until((heads) => heads.get(stream) === 2);
    // As if the log had stopped between its commit and its notice: the directory never heard.
    const log = nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));
    await runInDurableObject(log, (_instance, state) => {
      state.storage.sql.exec(`UPDATE meta SET value = '0' WHERE key = 'directory_head'`);
    });
    await runInDurableObject(directoryOf(space), (_instance, state) => {
      state.storage.sql.exec(`DELETE FROM streams WHERE stream = ?`, stream);
    });
    const second = await watch(`${space}:`);
    expect(await second.initial()).toEqual([]);
    // The alarm the notifier arms after a failed notice; a log woken by a request does the same.
    await runInDurableObject(log, (instance) => instance.alarm());
    await second.until((heads) => heads.get(stream) === 2);
  });

  it("refuses a notice for a stream of another space (a routing bug)", async () => {
    const space = freshSpace();
    expect(await directoryOf(space).notice(space, "elsewhere:1", 1, "e")).toMatchObject({
      ok: false,
      error: { code: "internal", message: expect.stringContaining("not in space") },
    });
  });
});

describe("GET /v1/streams", () => {
  it("lists by prefix in id order, paged with next until the last page", async () => {
    const space = freshSpace();
    const directory = directoryOf(space);
    const names = Array.from({ length: 25 }, (_, i) => `${space}:a-${String(i).padStart(2, "0")}`);
    for (const [i, stream] of names.entries()) await directory.notice(space, stream, i + 1, "e");
    await directory.notice(space, `${space}:b-1`, 1, "e");
    await directory.notice(space, `${space}:a`, 1, "e"); // the prefix itself is not under a-

    const pages = await listAll(`${space}:a-`, 10);
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(pages.flat().map((entry) => entry.stream)).toEqual(names);
    expect(pages.flat().map((entry) => entry.head)).toEqual(names.map((_, i) => i + 1));
    // A full last page has no next: the node looked one past it.
    expect((await listAll(`${space}:a-`, 25)).map((page) => page.length)).toEqual([25]);
    const everything = (await listAll(`${space}:`, 1000)).flat().map((entry) => entry.stream);
    expect(everything).toEqual([`${space}:a`, ...names, `${space}:b-1`]);
    // Default page: 100; another space lists nothing.
    expect(streamsResponse.parse((await list(`?prefix=${space}:`)).body).streams).toHaveLength(27);
    expect((await list(`?prefix=${freshSpace()}:`)).body).toEqual({ streams: [] });
  });

  it("shows a caller only the streams its token may read", async () => {
    const space = freshSpace();
    const directory = directoryOf(space);
    const all = ["a-1", "a-2", "b-1", "b-2", "c-1"].map((name) => `${space}:${name}`);
    for (const stream of all) await directory.notice(space, stream, 1, "e");
    const reader = await token({ [`${space}:a-*`]: "read", [`${space}:c-1`]: "write" }, "bob");
    const seen = (await listAll(`${space}:`, 1, reader)).flat().map((entry) => entry.stream);
    expect(seen).toEqual([`${space}:a-1`, `${space}:a-2`, `${space}:c-1`]);
    const wide = await token({ [`${space}:*`]: "read" }, "carol");
    expect((await listAll(`${space}:`, 2, wide)).flat()).toHaveLength(5);
    // A prefix narrower than a grant: all of it; a grant elsewhere: forbidden.
    expect((await listAll(`${space}:b-`, 10, wide)).flat()).toHaveLength(2);
    const elsewhere = await token({ "other:*": "write", [`${space}x:1`]: "write" }, "dave");
    const refused = await list(`?prefix=${space}:`, elsewhere);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "forbidden" });
  });

  it("bounds the rows one page scans: a short page still has next when the token reads few", async () => {
    const space = freshSpace();
    // 6,000 streams the token cannot read, then one it can (written straight into the table).
    await runInDurableObject(directoryOf(space), (instance, state) => {
      instance.notice(space, `${space}:a-0`, 1, "e"); // binds the object to the space
      for (let i = 1; i <= 6000; i++) {
        state.storage.sql.exec(
          `INSERT INTO streams (stream, head, epoch) VALUES (?, 1, 'e')`,
          `${space}:a-${String(i).padStart(5, "0")}`,
        );
      }
      state.storage.sql.exec(
        `INSERT INTO streams (stream, head, epoch) VALUES (?, 3, 'e')`,
        `${space}:b-1`,
      );
    });
    const reader = await token({ [`${space}:b-1`]: "read" }, "bob");
    const first = streamsResponse.parse((await list(`?prefix=${space}:&limit=10`, reader)).body);
    expect(first.streams).toEqual([]);
    expect(first.next).toBeDefined();
    const pages = await listAll(`${space}:`, 10, reader);
    expect(pages.flat()).toEqual([{ stream: `${space}:b-1`, head: 3, epoch: "e" }]);
  });

  it("takes a token of the subject's rate limit for each listing", async () => {
    const space = freshSpace();
    const app = createSyncNode({ limits: { ratePerSecond: 1, rateBurst: 2 } });
    const tokenValue = await token({ [`${space}:*`]: "read" }, "hasty");
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetchApp(app, `/v1/streams?prefix=${space}:`, {
        headers: { Authorization: `Bearer ${tokenValue}` },
      });
      statuses.push(response.status);
      if (response.status === 429) expect(response.headers.get("Retry-After")).toBe("1");
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("refuses bad queries with validation, naming the parameter", async () => {
    const space = freshSpace();
    for (const [query, path] of [
      ["", "prefix"],
      [`?prefix=${space}`, "prefix"], // no ':'
      ["?prefix=:x", "prefix"],
      [`?prefix=${space}:%20x`, "prefix"],
      [`?prefix=${space}:&limit=0`, "limit"],
      [`?prefix=${space}:&limit=1001`, "limit"],
      [`?prefix=${space}:&limit=ten`, "limit"],
      [`?prefix=${space}:&after=%2Fx`, "after"],
    ] as const) {
      const { status, body } = await list(query);
      expect({ query, status, body }).toMatchObject({
        query,
        status: 400,
        body: { code: "validation", path },
      });
    }
  });

  it("authenticates like the stream routes: 401 without, with a bad or an expired token, or ?token=", async () => {
    const space = freshSpace();
    const none = await fetchNode(`/v1/streams?prefix=${space}:`);
    expect(none.status).toBe(401);
    expect((await list(`?prefix=${space}:`, "not.a.token")).status).toBe(401);
    expect(
      (await list(`?prefix=${space}:`, await token({ "*": "read" }, "eve", -120))).status,
    ).toBe(401);
    const inUrl = await fetchNode(
      `/v1/streams?prefix=${space}:&token=${encodeURIComponent(await token())}`,
    );
    expect(inUrl.status).toBe(401);
    expect(await inUrl.json()).toMatchObject({ code: "unauthorized" });
  });

  it("answers internal, naming the binding, when the node has no directory", async () => {
    const app = createSyncNode();
    const env = { ...nodeEnv, STREAM_DIRECTORY: undefined };
    const response = await app.fetch(
      new Request(`http://node.test/v1/streams?prefix=x:`, {
        headers: { Authorization: `Bearer ${await token()}` },
      }),
      env,
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      code: "internal",
      message: expect.stringContaining("STREAM_DIRECTORY"),
    });
  });
});

describe("GET /v1/watch", () => {
  it("sends the current heads on connecting, then the streams that move, readable ones only", async () => {
    const space = freshSpace();
    const directory = directoryOf(space);
    await directory.notice(space, `${space}:a-1`, 4, "e");
    await directory.notice(space, `${space}:b-1`, 9, "e");
    const reader = await token({ [`${space}:a-*`]: "read" }, "bob");
    const watcher = await watch(`${space}:`, reader);
    expect(await watcher.initial()).toEqual([{ stream: `${space}:a-1`, head: 4, epoch: "e" }]);
    // A stream the token cannot read moves, then one it can: only the latter reaches it.
    const [hidden, shown] = [`${space}:b-1`, `${space}:a-2`];
    await pushHttp(hidden, { events: events(hidden, 1) });
    await pushHttp(shown, { events: events(shown, 2) });
    await watcher.until((heads) => heads.get(shown) === 2);
    const streams = watcher.received.flatMap((frame) =>
      frame.t === "heads" ? frame.streams.map((entry) => entry.stream) : [],
    );
    expect(streams).not.toContain(hidden);
    watcher.ws.close(1000, "done");
  });

  it("pages the current heads under the frame limit (more: true until the last)", async () => {
    const space = freshSpace();
    const directory = directoryOf(space);
    const names = Array.from({ length: 40 }, (_, i) => `${space}:s-${String(i).padStart(2, "0")}`);
    for (const stream of names) await directory.notice(space, stream, 1, "e");
    const app = createSyncNode({ limits: { maxFrameBytes: 4096 } });
    const watcher = await watch(`${space}:`, undefined, app);
    const initial = await watcher.initial();
    expect(initial.map((entry) => entry.stream)).toEqual(names);
    const frames = watcher.received.filter((frame) => frame.t === "heads");
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.slice(0, -1).every((frame) => frame.t === "heads" && frame.more)).toBe(true);
  });

  it("refuses upgrades like the stream socket: 401, 403, validation", async () => {
    const space = freshSpace();
    const refusal = async (query: string) => {
      const response = await fetchNode(`/v1/watch${query}`, { headers: { Upgrade: "websocket" } });
      return { status: response.status, body: await response.json() };
    };
    expect((await refusal(`?prefix=${space}:`)).status).toBe(401);
    const elsewhere = encodeURIComponent(await token({ "other:*": "read" }, "dave"));
    expect(await refusal(`?prefix=${space}:&token=${elsewhere}`)).toMatchObject({
      status: 403,
      body: { code: "forbidden" },
    });
    const good = encodeURIComponent(await token());
    expect(await refusal(`?prefix=${space}&token=${good}`)).toMatchObject({
      status: 400,
      body: { code: "validation", path: "prefix" },
    });
    // Not an upgrade at all.
    const plain = await fetchNode(`/v1/watch?prefix=${space}:`, {
      headers: { Authorization: `Bearer ${await token()}` },
    });
    expect(plain.status).toBe(400);
  });

  it("closes the socket at the token's expiry: unauthorized, then 4401", async () => {
    const space = freshSpace();
    const watcher = await watch(`${space}:`, await token({ [`${space}:*`]: "read" }, "brief", 2));
    await watcher.initial();
    const closed = await watcher.closed;
    expect(closed.code).toBe(4401);
    expect(watcher.received.at(-1)).toMatchObject({ t: "error", code: "unauthorized" });
  }, 15_000);
});

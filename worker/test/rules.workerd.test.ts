// The seven rules (docs/architecture.md), each against the real node over real sockets in workerd.
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LogTable } from "../src/stream-log/log-table.ts";
import {
  connect,
  events,
  freshStream,
  logOf,
  nextReq,
  nodeEnv,
  pullHttp,
  pushHttp,
  token,
} from "./node-client.ts";

const stubOf = (stream: string) => nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));

describe("rule 1: gapless total order per stream", () => {
  it("numbers concurrent pushes 1..head with every batch contiguous", async () => {
    const stream = freshStream();
    const sockets = await Promise.all([connect(stream), connect(stream), connect(stream)]);
    const acks = await Promise.all(
      sockets.flatMap((socket, s) =>
        [1, 2, 3, 4].map((size) =>
          socket.request({ t: "push", req: nextReq(), events: events(stream, size, `s${s}`) }),
        ),
      ),
    );
    const batches = acks.map((ack) => (ack.t === "ack" ? ack.results.map((r) => r.position) : []));
    for (const batch of batches) {
      expect(batch.length).toBeGreaterThan(0);
      expect(batch).toEqual(batch.map((_, i) => batch[0]! + i));
    }
    const all = batches.flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await logOf(stream)).map((e) => e.position)).toEqual(all);
  });
});

describe("rule 2: atomic batches", () => {
  it("stores nothing of a push with one bad event", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    const batch = events(stream, 3);
    (batch[2] as { version: number }).version = 0;
    const answer = await socket.request({ t: "push", req: nextReq(), events: batch });
    expect(answer).toMatchObject({ t: "error", code: "validation" });
    expect(await logOf(stream)).toEqual([]);
  });

  it("rolls the whole batch back when the database refuses a row mid-batch", async () => {
    const stream = freshStream();
    const [stored] = events(stream, 1);
    await pushHttp(stream, { events: [stored] });
    await runInDurableObject(stubOf(stream), (_instance, state) => {
      const log = new LogTable(state.storage);
      // Row 2 repeats a stored id: the UNIQUE constraint fails after row 1 was inserted.
      expect(() => log.commit([...events(stream, 1, "x"), stored!], 1)).toThrow(/UNIQUE/);
      expect(log.head).toBe(1);
    });
    expect((await logOf(stream)).map((e) => e.id)).toEqual([stored!.id]);
    const socket = await connect(stream);
    const ack = await socket.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 2 }] });
  });
});

describe("rule 3: idempotent by event id", () => {
  it("answers a re-push after a lost ack with the original positions and stores nothing", async () => {
    const stream = freshStream();
    const batch = events(stream, 3);
    const first = await connect(stream);
    const ack = await first.request({ t: "push", req: "lost", events: batch });
    first.close(); // the ack never reached the app; it reconnects and pushes again
    const second = await connect(stream);
    const again = await second.request({ t: "push", req: "retry", events: batch });
    expect(again.t === "ack" && again.results).toEqual(ack.t === "ack" && ack.results);
    expect(await logOf(stream)).toHaveLength(3);
  });

  it("stores only the new ids of a mixed batch, in the order given", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    const [a, b, c, d] = events(stream, 4);
    await socket.request({ t: "push", req: nextReq(), events: [a, b] });
    await socket.request({ t: "push", req: nextReq(), events: events(stream, 1, "other") });
    const ack = await socket.request({ t: "push", req: nextReq(), events: [c, a, d, b] });
    expect(ack.t === "ack" && ack.results.map((r) => [r.id, r.position])).toEqual([
      [c!.id, 4],
      [a!.id, 1],
      [d!.id, 5],
      [b!.id, 2],
    ]);
    expect((await logOf(stream)).map((e) => e.id)).toEqual([
      a!.id,
      b!.id,
      expect.any(String),
      c!.id,
      d!.id,
    ]);
  });

  it("puts idempotency before strictness", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    const batch = events(stream, 2);
    await socket.request({ t: "push", req: nextReq(), events: batch, expected: 0 });
    await socket.request({ t: "push", req: nextReq(), events: events(stream, 1, "x") });
    // All stored: acked although the head (3) is not `expected` (0).
    const again = await socket.request({ t: "push", req: nextReq(), events: batch, expected: 0 });
    expect(again).toMatchObject({ t: "ack", results: [{ position: 1 }, { position: 2 }] });
    // A new event decided on head 0 now conflicts and reports the head.
    const stale = await socket.request({
      t: "push",
      req: "stale",
      events: events(stream, 1, "y"),
      expected: 0,
    });
    expect(stale).toEqual({ t: "conflict", req: "stale", head: 3 });
    // Stored ids of this batch after `expected` do not count as the head moving.
    const [late] = events(stream, 1, "z");
    const mixed = await socket.request({
      t: "push",
      req: nextReq(),
      events: [...batch, late!],
      expected: 3,
    });
    expect(mixed).toMatchObject({
      t: "ack",
      results: [{ position: 1 }, { position: 2 }, { position: 4 }],
    });
    expect(await logOf(stream)).toHaveLength(4);
  });

  it("answers a strict HTTP push whose head moved with 409 conflict and the head", async () => {
    const stream = freshStream();
    await pushHttp(stream, { events: events(stream, 2) });
    const response = await pushHttp(stream, { events: events(stream, 1), expected: 1 });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: "conflict", head: 2 });
  });
});

describe("rule 4: durable before acknowledged", () => {
  it("keeps every acknowledged event when the object is aborted right after the ack", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    const ack = await socket.request({ t: "push", req: nextReq(), events: events(stream, 5) });
    await abortAllDurableObjects();
    const log = await logOf(stream);
    expect(log.map((e) => [e.id, e.position])).toEqual(
      ack.t === "ack" ? ack.results.map((r) => [r.id, r.position]) : [],
    );
  });
});

describe("rule 5: every client sees the same order", () => {
  it("delivers live events to every other socket in position order, never to the pusher", async () => {
    const stream = freshStream();
    const watchers = await Promise.all([connect(stream), connect(stream), connect(stream)]);
    await Promise.all(watchers.map((w) => w.hello()));
    const pushers = await Promise.all([connect(stream), connect(stream)]);
    await Promise.all(
      pushers.flatMap((p, i) =>
        [1, 2, 3].map(() =>
          p.request({ t: "push", req: nextReq(), events: events(stream, 2, `p${i}`) }),
        ),
      ),
    );
    const log = await logOf(stream);
    for (const watcher of watchers) {
      expect(await watcher.eventsUntil(12)).toEqual(log.map((e) => e.position));
    }
    // Pushers never said hello and the pusher never gets its own events back.
    for (const pusher of pushers)
      expect(pusher.received.filter((f) => f.t === "events")).toEqual([]);
  });

  it("gives a late subscriber the same log from any cursor", async () => {
    const stream = freshStream();
    await pushHttp(stream, { events: events(stream, 7) });
    const late = await connect(stream);
    const welcome = await late.hello(3);
    expect(welcome.head).toBe(7);
    expect(await late.eventsUntil(7)).toEqual([4, 5, 6, 7]);
  });
});

describe("rule 6: epoch", () => {
  it("fixes a random epoch per stream log that survives reconnects and eviction", async () => {
    const stream = freshStream();
    const first = await (await connect(stream)).hello();
    const second = await (await connect(stream)).hello();
    expect(second.epoch).toBe(first.epoch);
    await abortAllDurableObjects();
    expect((await (await connect(stream)).hello()).epoch).toBe(first.epoch);
    const other = await (await connect(freshStream())).hello();
    expect(other.epoch).not.toBe(first.epoch);
    expect(first.epoch).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers a hello with a stale epoch with the node's epoch and the whole log", async () => {
    const stream = freshStream();
    await pushHttp(stream, { events: events(stream, 2) });
    const socket = await connect(stream);
    // The cursor (1) belongs to another log: it is ignored and everything is sent.
    socket.send({ t: "hello", protocol: 1, after: 1, epoch: "some-old-epoch" });
    const welcome = await socket.next((f) => f.t === "welcome");
    expect(welcome).toMatchObject({ t: "welcome", head: 2 });
    expect(welcome.t === "welcome" && welcome.epoch).not.toBe("some-old-epoch");
    expect(await socket.eventsUntil(2)).toEqual([1, 2]);
    // With the current epoch the cursor holds.
    const current = await connect(stream);
    current.send({
      t: "hello",
      protocol: 1,
      after: 1,
      epoch: (welcome as { epoch: string }).epoch,
    });
    await current.next((f) => f.t === "welcome");
    expect(await current.eventsUntil(2)).toEqual([2]);
  });
});

describe("node-owned fields", () => {
  it("overwrites position, recordedAt and meta.actor, never trusting the client", async () => {
    const stream = freshStream();
    const socket = await connect(stream, await token({ [stream]: "write" }, "carol"));
    const [event] = events(stream, 1);
    const forged = {
      ...event!,
      position: 99,
      recordedAt: 1,
      meta: { ...event!.meta, actor: "mallory" },
    };
    const ack = await socket.request({ t: "push", req: nextReq(), events: [forged] });
    // The ack echoes the stamped actor, so the pusher's copy can match the log.
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 1, actor: "carol" }] });
    const again = await socket.request({ t: "push", req: nextReq(), events: [forged] });
    expect(again).toMatchObject({ t: "ack", results: [{ position: 1, actor: "carol" }] });
    const [stored] = await logOf(stream);
    expect(stored!.position).toBe(1);
    expect(stored!.meta.actor).toBe("carol");
    expect(stored!.recordedAt).toBeGreaterThan(1);
  });

  it("keeps recordedAt non-decreasing along the log", async () => {
    const stream = freshStream();
    for (let i = 0; i < 5; i++) await pushHttp(stream, { events: events(stream, 2) });
    const times = (await logOf(stream)).map((e) => e.recordedAt);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});

describe("rule 7: bounded frames from the node too", () => {
  it("pages catch-up, pulls and HTTP pages so that no frame passes the frame limit", async () => {
    const stream = freshStream();
    const big = (tag: string) =>
      events(stream, 10, tag).map((event) => ({ ...event, data: "x".repeat(60_000) }));
    const socket = await connect(stream);
    for (const tag of ["a", "b"]) {
      const ack = await socket.request({ t: "push", req: nextReq(), events: big(tag) });
      expect(ack.t).toBe("ack");
    }
    const late = await connect(stream);
    await late.hello();
    expect(await late.eventsUntil(20)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const catchUp = late.raw.filter((text) => text.startsWith('{"t":"events"'));
    expect(catchUp.length).toBeGreaterThan(1);
    for (const text of catchUp)
      expect(new TextEncoder().encode(text).byteLength).toBeLessThanOrEqual(1024 * 1024);
    const pulled = await socket.request({ t: "pull", req: "big", after: 0, limit: 1000 });
    expect(pulled.t === "events" && pulled.more).toBe(true);
    expect(pulled.t === "events" && pulled.events.length).toBeLessThan(20);
    const page = await pullHttp(stream, "?after=0&limit=1000");
    expect(page.body.more).toBe(true);
    expect((page.body.events as unknown[]).length).toBeLessThan(20);
  });
});

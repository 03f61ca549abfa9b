// Rule 7 and bad input, table-driven: every malformed or hostile input gets its coded error, the
// log is unchanged, and the socket stays usable afterwards.
import { createEnvelope } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/auth/jwt.ts";
import { createSyncNode } from "../src/index.ts";
import {
  connect,
  connectApp,
  events,
  fetchNode,
  freshStream,
  logOf,
  nextReq,
  pushHttp,
  token,
} from "./node-client.ts";

const stream = freshStream("hostile");
const [valid] = events(stream, 1);
const event = (patch: Record<string, unknown>) => ({
  ...valid!,
  id: crypto.randomUUID(),
  ...patch,
});
const push = (list: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ t: "push", req: "bad", events: list, ...extra });
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

type Case = [name: string, frame: string | Uint8Array, code: string];
const socketCases: Case[] = [
  ["not JSON", "{nope", "protocol"],
  ["binary frame", new Uint8Array([1, 2, 3]), "protocol"],
  ["JSON array", "[]", "protocol"],
  ["JSON number", "42", "protocol"],
  ["JSON null", "null", "protocol"],
  ["no frame type", JSON.stringify({ req: "x" }), "protocol"],
  ["unknown frame type", JSON.stringify({ t: "subscribe", req: "x" }), "protocol"],
  ["numeric frame type", JSON.stringify({ t: 7 }), "protocol"],
  [
    "server frame sent by a client",
    JSON.stringify({ t: "ack", req: "x", results: [] }),
    "protocol",
  ],
  ["protocol version mismatch", JSON.stringify({ t: "hello", protocol: 2, after: 0 }), "protocol"],
  ["hello without a version", JSON.stringify({ t: "hello", after: 0 }), "protocol"],
  ["negative hello cursor", JSON.stringify({ t: "hello", protocol: 1, after: -1 }), "validation"],
  ["string hello cursor", JSON.stringify({ t: "hello", protocol: 1, after: "0" }), "validation"],
  ["empty push", push([]), "validation"],
  ["events not an array", JSON.stringify({ t: "push", req: "bad", events: {} }), "validation"],
  ["push without req", JSON.stringify({ t: "push", events: [valid] }), "validation"],
  [
    "request id over 64 chars",
    JSON.stringify({ t: "push", req: "r".repeat(65), events: [valid] }),
    "validation",
  ],
  ["bad stream id", push([event({ stream: "bad stream!" })]), "validation"],
  ["unicode stream id", push([event({ stream: "bоard:1" })]), "validation"],
  ["event for another stream", push([event({ stream: "board:other" })]), "validation"],
  ["schema version 0", push([event({ version: 0 })]), "validation"],
  ["fractional schema version", push([event({ version: 1.5 })]), "validation"],
  ["empty event type", push([event({ type: "" })]), "validation"],
  ["empty event id", push([event({ id: "" })]), "validation"],
  ["event id of 65 chars", push([event({ id: "x".repeat(65) })]), "validation"],
  ["missing meta", push([event({ meta: undefined })]), "validation"],
  [
    "occurredAt as a string",
    push([event({ meta: { ...valid!.meta, occurredAt: "now" } })]),
    "validation",
  ],
  ["missing data", push([{ ...event({}), data: undefined }]), "validation"],
  ["duplicate ids in one batch", push([valid, { ...valid }]), "validation"],
  ["negative position supplied by the client", push([event({ position: -5 })]), "validation"],
  ["string position supplied by the client", push([event({ position: "1" })]), "validation"],
  ["recordedAt as a string", push([event({ recordedAt: "yesterday" })]), "validation"],
  ["negative expected head", push([event({})], { expected: -1 }), "validation"],
  ["string expected head", push([event({})], { expected: "2" }), "validation"],
  ["pull limit 0", JSON.stringify({ t: "pull", req: "bad", after: 0, limit: 0 }), "validation"],
  [
    "pull limit 1001",
    JSON.stringify({ t: "pull", req: "bad", after: 0, limit: 1001 }),
    "validation",
  ],
  ["negative pull cursor", JSON.stringify({ t: "pull", req: "bad", after: -3 }), "validation"],
  ["501 events in one push", push(Array.from({ length: 501 }, () => event({}))), "too-large"],
  ["event over 64 KiB", push([event({ data: "x".repeat(70_000) })]), "too-large"],
  ["frame over 1 MiB", push([event({})], { pad: "x".repeat(1_100_000) }), "too-large"],
  ["multi-byte frame over 1 MiB", push([event({})], { pad: "é".repeat(600_000) }), "too-large"],
  ["data nested 4,000 deep", push([event({ data: JSON.parse(nested(4000)) })]), "validation"],
];

describe("hostile WebSocket frames", () => {
  it("has at least 30 cases", () => {
    expect(socketCases.length).toBeGreaterThanOrEqual(30);
  });

  for (const [name, frame, code] of socketCases) {
    it(`answers ${name} with ${code}, stores nothing and stays usable`, async () => {
      const before = await logOf(stream);
      const socket = await connect(stream);
      socket.ws.send(frame);
      const answer = await socket.next();
      expect(answer).toMatchObject({ t: "error", code });
      // The request id comes back when the frame had a readable one.
      if (typeof frame === "string" && frame.length < 1_000_000 && frame.includes('"req":"bad"')) {
        expect(answer).toMatchObject({ req: "bad" });
      }
      const req = nextReq();
      expect(await socket.request({ t: "pull", req, after: 0 })).toMatchObject({
        t: "events",
        req,
      });
      expect(await logOf(stream)).toEqual(before);
      socket.close();
    });
  }
});

describe("hostile HTTP requests", () => {
  const url = `/v1/streams/${stream}/events`;
  const cases: Array<[string, () => Promise<Response>, number, string]> = [
    ["body not JSON", () => pushHttp(stream, "{nope"), 400, "validation"],
    ["body an array", () => pushHttp(stream, "[1]"), 400, "validation"],
    ["body without events", () => pushHttp(stream, { expected: 0 }), 400, "validation"],
    [
      "event for another stream",
      () => pushHttp(stream, { events: [event({ stream: "board:x" })] }),
      400,
      "validation",
    ],
    ["duplicate ids", () => pushHttp(stream, { events: [valid, valid] }), 400, "validation"],
    [
      "body over 1 MiB",
      () => pushHttp(stream, { events: [valid], pad: "x".repeat(1_100_000) }),
      413,
      "too-large",
    ],
    [
      "501 events",
      () => pushHttp(stream, { events: Array.from({ length: 501 }, () => event({})) }),
      413,
      "too-large",
    ],
    [
      "bad stream id in the URL",
      async () => pushHttp("bad%20id", { events: [valid] }),
      400,
      "validation",
    ],
    [
      "WebSocket upgrade to a bad stream id",
      async () =>
        fetchNode(`/v1/streams/-bad/ws?token=${await token()}`, {
          headers: { Upgrade: "websocket" },
        }),
      400,
      "validation",
    ],
    [
      "WebSocket route without an upgrade",
      async () => fetchNode(`/v1/streams/${stream}/ws?token=${await token()}`),
      400,
      "validation",
    ],
    [
      "negative after",
      async () =>
        fetchNode(`${url}?after=-1`, { headers: { Authorization: `Bearer ${await token()}` } }),
      400,
      "validation",
    ],
    [
      "limit not a number",
      async () =>
        fetchNode(`${url}?limit=abc`, { headers: { Authorization: `Bearer ${await token()}` } }),
      400,
      "validation",
    ],
    [
      "limit 5000",
      async () =>
        fetchNode(`${url}?limit=5000`, { headers: { Authorization: `Bearer ${await token()}` } }),
      400,
      "validation",
    ],
    [
      "forged token",
      async () =>
        pushHttp(
          stream,
          { events: [event({})] },
          await signToken({ sub: "m", streams: { "*": "write" }, exp: 2e9 }, "guess"),
        ),
      401,
      "unauthorized",
    ],
    [
      "Basic credentials",
      () =>
        fetchNode(url, {
          method: "POST",
          headers: { Authorization: "Basic YWxpY2U6cHc=" },
          body: JSON.stringify({ events: [event({})] }),
        }),
      401,
      "unauthorized",
    ],
  ];
  for (const [name, send, status, code] of cases) {
    it(`answers ${name} with ${status} ${code} and stores nothing`, async () => {
      const before = await logOf(stream);
      const response = await send();
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ code, message: expect.any(String) });
      expect(await logOf(stream)).toEqual(before);
    });
  }
});

describe("rate limit (token bucket per subject)", () => {
  it("answers frames beyond the burst with rate-limited and stores none of them", async () => {
    const rateStream = freshStream();
    // A refill this slow keeps the test exact however loaded the machine: its 40 frames past
    // the burst would need 40 s to earn their tokens. The upgrade takes one token of 81.
    const app = createSyncNode({ limits: { ratePerSecond: 1, rateBurst: 81 } });
    const socket = await connectApp(app, rateStream);
    const reqs = Array.from({ length: 120 }, (_, i) => `rl${i}`);
    for (const req of reqs) {
      socket.send({
        t: "push",
        req,
        events: [
          createEnvelope(
            rateStream,
            { type: "x", version: 1, data: req },
            { actor: "a", device: "d" },
          ),
        ],
      });
    }
    const answers = await Promise.all(
      reqs.map((req) => socket.next((f) => "req" in f && f.req === req)),
    );
    const limited = answers.filter((a) => a.t === "error" && a.code === "rate-limited");
    const acked = answers.filter((a) => a.t === "ack");
    // The burst (80) always passes; the 40 frames past it would need 40 s to refill (one token
    // a second in this tier), so some are refused however slowly the runtime goes.
    // Counted, not read off the first 80 sent: the local runtime, when loaded, can hand a
    // burst's frames to the object out of the order they were sent (seen here: rl26 stored
    // before rl24), so which frames fall past the burst is not fixed. (The sync client has one
    // push in flight per stream, so its pushes are not reordered this way.)
    expect(acked.length).toBeGreaterThanOrEqual(80);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.length + acked.length).toBe(120);
    // Read by another subject: alice's bucket is empty.
    expect((await logOf(rateStream, await token({ "*": "read" }, "auditor"))).length).toBe(
      acked.length,
    );
    // Heartbeats are answered by the runtime and are not rate limited.
    socket.send("ping");
    await new Promise<void>((resolve) => {
      socket.ws.addEventListener("message", (e) => e.data === "pong" && resolve());
    });
  });
});

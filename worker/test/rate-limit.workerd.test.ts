// Rate limits per token subject per stream (rule 7): every socket frame, upgrade and HTTP request
// of one subject draws from one bucket in the stream's object, however many sockets it opens.
import { describe, expect, it } from "vitest";
import { createSyncNode } from "../src/index.ts";
import {
  connectApp,
  events,
  fetchApp,
  freshStream,
  type NodeSocket,
  nextReq,
  token,
} from "./node-client.ts";

// One token a second: nothing the test does in its few seconds earns many back.
const limits = { ratePerSecond: 1, rateBurst: 20 };

describe("rate limit per subject across sockets and HTTP", () => {
  it("holds 4 sockets and HTTP requests of one subject to one allowance", async () => {
    const app = createSyncNode({ limits });
    const stream = freshStream();
    const mallory = await token({ [stream]: "write" }, "mallory");
    const started = Date.now();
    const sockets: NodeSocket[] = [];
    for (let i = 0; i < 4; i++) sockets.push(await connectApp(app, stream, mallory));
    const frames = sockets.flatMap((socket) =>
      Array.from({ length: 10 }, () => {
        const req = nextReq();
        socket.send({ t: "push", req, events: events(stream, 1) });
        return socket.next((frame) => "req" in frame && frame.req === req);
      }),
    );
    const http = Array.from({ length: 10 }, (_, i) =>
      fetchApp(app, `/v1/streams/${stream}/events${i % 2 ? "" : "?after=0"}`, {
        method: i % 2 ? "POST" : "GET",
        headers: { Authorization: `Bearer ${mallory}` },
        ...(i % 2 ? { body: JSON.stringify({ events: events(stream, 1) }) } : {}),
      }),
    );
    const answers = await Promise.all(frames);
    const responses = await Promise.all(http);
    const seconds = Math.ceil((Date.now() - started) / 1000);

    const framesServed = answers.filter((answer) => answer.t === "ack").length;
    const framesLimited = answers.filter((a) => a.t === "error" && a.code === "rate-limited");
    const httpServed = responses.filter((response) => response.status === 200).length;
    const httpLimited = responses.filter((response) => response.status === 429).length;
    expect(framesServed + framesLimited.length).toBe(40);
    expect(httpServed + httpLimited).toBe(10);
    // 4 upgrades + served requests never exceed the burst plus what the clock refilled.
    expect(4 + framesServed + httpServed).toBeLessThanOrEqual(limits.rateBurst + seconds);
    expect(framesLimited.length + httpLimited).toBeGreaterThanOrEqual(50 - 16 - seconds);
    for (const socket of sockets) socket.close();
  });

  it("answers 429 with Retry-After and retryAfter, and a coded error frame with details", async () => {
    const app = createSyncNode({ limits: { ratePerSecond: 1, rateBurst: 2 } });
    const stream = freshStream();
    const value = await token({ [stream]: "write" }, "eager");
    const pull = () =>
      fetchApp(app, `/v1/streams/${stream}/events`, {
        headers: { Authorization: `Bearer ${value}` },
      });
    expect((await pull()).status).toBe(200);
    expect((await pull()).status).toBe(200);
    const limited = await pull();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ code: "rate-limited", retryAfter });
    // The upgrade itself is refused with a plain 429 before upgrading.
    const upgrade = await fetchApp(app, `/v1/streams/${stream}/ws?token=${value}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(upgrade.status).toBe(429);
    expect(upgrade.headers.get("Retry-After")).toBe(String(retryAfter));
    // Another subject on the same stream, and the same subject on another stream, are not held.
    const other = await token({ [stream]: "write" }, "patient");
    const socket = await connectApp(app, stream, other);
    const elsewhere = freshStream();
    expect(
      (
        await fetchApp(app, `/v1/streams/${elsewhere}/events`, {
          headers: { Authorization: `Bearer ${await token({ [elsewhere]: "read" }, "eager")}` },
        })
      ).status,
    ).toBe(200);
    // Frames: the error frame carries retryAfter in its details (seconds, as the header).
    const answers = await Promise.all(
      ["a", "b", "c"].map((req) => socket.request({ t: "pull", req, after: 0 })),
    );
    const refused = answers.find((answer) => answer.t === "error");
    expect(refused).toMatchObject({
      t: "error",
      code: "rate-limited",
      details: { retryAfter: expect.any(Number) },
    });
    socket.close();
  });
});

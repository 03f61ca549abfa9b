// createSyncNode's options: each one wins over its env var, and the limits reach the Durable
// Object (sockets keep them across hibernation) without the app configuring the object.
import { runInDurableObject } from "cloudflare:test";
import { createEnvelope } from "@chronicle/core";
import type { ServerFrame } from "@chronicle/sync/protocol";
import type { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/auth/jwt.ts";
import { createSyncNode, StreamLog, type SyncNodeEnv } from "../src/index.ts";
import type { SocketState } from "../src/stream-log/socket-state.ts";
import {
  connectApp,
  events,
  freshStream,
  logOf,
  nextReq,
  nodeEnv,
  origin,
  pushHttp,
  token,
} from "./node-client.ts";

type App = Hono<{ Bindings: SyncNodeEnv }>;

function call(app: App, path: string, init?: RequestInit, env: SyncNodeEnv = nodeEnv) {
  return app.fetch(new Request(`${origin}${path}`, init), env);
}

const connectTo = (app: App, stream: string) => connectApp(app, stream);

const errorCode = (frame: ServerFrame) => (frame.t === "error" ? frame.code : frame.t);

describe("createSyncNode limits", () => {
  it("enforces option limits over the env vars, on HTTP pushes", async () => {
    const app = createSyncNode({ limits: { maxEventsPerPush: 2 } });
    const stream = freshStream();
    const push = async (count: number) =>
      call(app, `/v1/streams/${stream}/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${await token()}` },
        body: JSON.stringify({ events: events(stream, count) }),
      });
    expect(nodeEnv.MAX_EVENTS_PER_PUSH).toBe("500");
    expect((await push(3)).status).toBe(413);
    expect((await push(2)).status).toBe(200);
    // The same env without the option takes three.
    expect((await pushHttp(stream, { events: events(stream, 3) })).status).toBe(200);
    expect((await logOf(stream)).length).toBe(5);
  });

  it("gives the Durable Object the option limits for sockets, across a wake-up", async () => {
    const app = createSyncNode({ limits: { maxEventsPerPush: 2, maxEventBytes: 1000 } });
    const stream = freshStream();
    const socket = await connectTo(app, stream);
    const refused = await socket.request({ t: "push", req: nextReq(), events: events(stream, 3) });
    expect(errorCode(refused)).toBe("too-large");
    const big = createEnvelope(
      stream,
      { type: "card.added", version: 1, data: "x".repeat(2000) },
      { actor: "a", device: "d" },
    );
    const tooBig = await socket.request({ t: "push", req: nextReq(), events: [big] });
    expect(errorCode(tooBig)).toBe("too-large");
    expect(
      await socket.request({ t: "push", req: nextReq(), events: events(stream, 2) }),
    ).toMatchObject({ t: "ack" });

    // A fresh instance (as after hibernation) knows the socket's limits from its attachment.
    const stub = nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));
    await runInDurableObject(stub, (_old, state) => {
      const [ws] = state.getWebSockets();
      expect((ws!.deserializeAttachment() as SocketState).limits).toMatchObject({
        maxEventsPerPush: 2,
        maxEventBytes: 1000,
      });
      new StreamLog(state, nodeEnv).webSocketMessage(
        ws!,
        JSON.stringify({ t: "push", req: "woken", events: events(stream, 3) }),
      );
    });
    expect(errorCode(await socket.next((f) => "req" in f && f.req === "woken"))).toBe("too-large");
    expect((await logOf(stream)).length).toBe(2);
    socket.close();
  });

  it("rate limits sockets with the option's rate and burst", async () => {
    // The upgrade takes one token of the burst, the frames the other three.
    const app = createSyncNode({ limits: { ratePerSecond: 1, rateBurst: 4 } });
    const stream = freshStream();
    const socket = await connectTo(app, stream);
    const reqs = Array.from({ length: 10 }, () => nextReq());
    for (const req of reqs) socket.send({ t: "push", req, events: events(stream, 1) });
    const answers = await Promise.all(
      reqs.map((req) => socket.next((f) => "req" in f && f.req === req)),
    );
    const acked = answers.filter((a) => a.t === "ack").length;
    const limited = answers.filter((a) => errorCode(a) === "rate-limited").length;
    // The burst always passes; the seven frames past it would need seven seconds to refill.
    expect(acked).toBeGreaterThanOrEqual(3);
    expect(limited).toBeGreaterThan(0);
    expect(acked + limited).toBe(10);
    socket.close();
  });

  it("pages pulls by the option's frame limit", async () => {
    const stream = freshStream();
    // Pushed through the env-configured node: 20 events are more than 2 KiB of body.
    expect((await pushHttp(stream, { events: events(stream, 20) })).status).toBe(200);
    const app = createSyncNode({ limits: { maxFrameBytes: 2048 } });
    const page = await call(app, `/v1/streams/${stream}/events?after=0&limit=1000`, {
      headers: { Authorization: `Bearer ${await token()}` },
    });
    const body = (await page.json()) as { events: unknown[]; head: number; more: boolean };
    expect(body.head).toBe(20);
    expect(body.more).toBe(true);
    expect(body.events.length).toBeGreaterThan(0);
    expect(body.events.length).toBeLessThan(20);
  });

  it("refuses a limit that is not a positive integer when the node is created", () => {
    expect(() => createSyncNode({ limits: { maxFrameBytes: 0 } })).toThrow(
      /limits\.maxFrameBytes must be a positive integer/,
    );
    expect(() => createSyncNode({ limits: { rateBurst: 1.5 } })).toThrow(/rateBurst/);
  });
});

describe("createSyncNode auth", () => {
  const claims = () => ({
    sub: "carol",
    streams: { "*": "write" as const },
    exp: Math.floor(Date.now() / 1000) + 600,
  });

  it("verifies tokens with the option's secret instead of CHRONICLE_SECRET", async () => {
    const secret = "an option secret of at least 32 bytes";
    const app = createSyncNode({ auth: { secret } });
    const pull = (value: string) =>
      call(app, `/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${value}` },
      });
    expect((await pull(await signToken(claims(), secret))).status).toBe(200);
    expect((await pull(await token())).status).toBe(401);
  });

  it("reads the secret from the env through a function", async () => {
    type Env = SyncNodeEnv & { TOKEN_KEY?: string };
    const app = createSyncNode<Env>({ auth: { secret: (env) => env.TOKEN_KEY } });
    const env: Env = { ...nodeEnv, TOKEN_KEY: "from-a-function" };
    const value = await signToken(claims(), "from-a-function");
    const response = await app.fetch(
      new Request(`${origin}/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${value}` },
      }),
      env,
    );
    expect(response.status).toBe(200);
    // A function that finds no key: a deployment mistake, answered `internal`.
    const missing = await app.fetch(
      new Request(`${origin}/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${value}` },
      }),
      nodeEnv,
    );
    expect(missing.status).toBe(500);
  });
});

describe("createSyncNode CORS and dev token route", () => {
  const preflight = (app: App, from: string) =>
    call(app, "/v1/streams/board:1/events", {
      method: "OPTIONS",
      headers: { Origin: from, "Access-Control-Request-Method": "POST" },
    });

  it("allows only the listed origins", async () => {
    const app = createSyncNode({ cors: { origins: ["https://board.example"] } });
    const allowed = await preflight(app, "https://board.example");
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://board.example");
    const other = await preflight(app, "https://elsewhere.example");
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const health = await call(app, "/health", { headers: { Origin: "https://board.example" } });
    expect(health.headers.get("Access-Control-Allow-Origin")).toBe("https://board.example");
  });

  it("sends no CORS headers when cors is false", async () => {
    const app = createSyncNode({ cors: false });
    const health = await call(app, "/health", { headers: { Origin: "https://board.example" } });
    expect(health.status).toBe(200);
    expect(health.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("turns the dev token route on or off whatever CHRONICLE_DEV says", async () => {
    const ask = (app: App, env: SyncNodeEnv) =>
      call(
        app,
        "/v1/dev/token",
        { method: "POST", body: JSON.stringify({ sub: "x", streams: { "*": "read" } }) },
        env,
      );
    const { CHRONICLE_DEV: _dev, ...withoutDev } = nodeEnv;
    const on = await ask(createSyncNode({ devTokenRoute: true }), withoutDev);
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ token: expect.any(String) });
    const off = await ask(createSyncNode({ devTokenRoute: false }), {
      ...nodeEnv,
      CHRONICLE_DEV: "1",
    });
    expect(off.status).toBe(404);
  });
});

// Auth: HS256 tokens verified in the Worker before any Durable Object is touched.
import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/auth/jwt.ts";
import { createSyncNode } from "../src/index.ts";
import {
  connect,
  events,
  fetchNode,
  freshStream,
  logOf,
  nextReq,
  nodeEnv,
  origin,
  pullHttp,
  pushHttp,
  token,
} from "./node-client.ts";

const encode = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function refusedUpgrade(stream: string, auth?: string | { protocol: string }) {
  try {
    await connect(stream, auth ?? { protocol: "chronicle" });
  } catch (error) {
    return error as { status: number; body: { code: string } };
  }
  throw new Error("upgrade was accepted");
}

describe("tokens", () => {
  const badTokens: Array<[string, () => Promise<string>]> = [
    ["expired", () => token({ "*": "write" }, "alice", -10)],
    [
      "forged (other secret)",
      () => signToken({ sub: "a", streams: { "*": "write" }, exp: inAnHour() }, "not-the-secret"),
    ],
    ["malformed", async () => "not-a-jwt"],
    [
      "alg none",
      async () =>
        `${encode({ alg: "none" })}.${encode({ sub: "a", streams: { "*": "write" }, exp: inAnHour() })}.`,
    ],
    [
      "tampered claims",
      async () => {
        const [header, , signature] = (await token({ "public:*": "read" })).split(".");
        return `${header}.${encode({ sub: "a", streams: { "*": "write" }, exp: inAnHour() })}.${signature}`;
      },
    ],
    [
      "claims without streams",
      () => signToken({ sub: "a", exp: inAnHour() } as never, nodeEnv.CHRONICLE_SECRET!),
    ],
  ];
  for (const [name, make] of badTokens) {
    it(`refuses a ${name} token with 401 unauthorized over HTTP and before upgrading`, async () => {
      const stream = freshStream();
      const bad = await make();
      const push = await pushHttp(stream, { events: events(stream, 1) }, bad);
      expect(push.status).toBe(401);
      expect(await push.json()).toMatchObject({ code: "unauthorized" });
      expect((await pullHttp(stream, "", bad)).status).toBe(401);
      expect(await refusedUpgrade(stream, bad)).toMatchObject({
        status: 401,
        body: { code: "unauthorized" },
      });
    });
  }

  it("refuses requests without a token, and never wakes a Durable Object for them", async () => {
    const before = (await listDurableObjectIds(nodeEnv.STREAM_LOG)).length;
    const stream = freshStream();
    const response = await fetchNode(`/v1/streams/${stream}/events`);
    expect(response.status).toBe(401);
    expect(await refusedUpgrade(stream)).toMatchObject({ status: 401 });
    const noBearer = await fetchNode(`/v1/streams/${stream}/events`, {
      headers: { Authorization: "Basic abc" },
    });
    expect(noBearer.status).toBe(401);
    expect((await listDurableObjectIds(nodeEnv.STREAM_LOG)).length).toBe(before);
  });
});

describe("scopes", () => {
  it("matches prefix wildcards and lets write imply read", async () => {
    const scoped = await token({ "board:*": "write", "public:news": "read" }, "bob");
    const board = freshStream("board");
    expect((await pushHttp(board, { events: events(board, 1) }, scoped)).status).toBe(200);
    expect((await pullHttp(board, "", scoped)).status).toBe(200);
    expect((await pullHttp("public:news", "", scoped)).status).toBe(200);
    const forbidden = await pushHttp("public:news", { events: events("public:news", 1) }, scoped);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: "forbidden" });
    expect((await pullHttp("public:newsletter", "", scoped)).status).toBe(403);
    expect((await pullHttp("other:1", "", scoped)).status).toBe(403);
    expect(await refusedUpgrade("other:1", scoped)).toMatchObject({
      status: 403,
      body: { code: "forbidden" },
    });
  });

  it("lets a read-only socket subscribe and pull but answers its pushes with forbidden", async () => {
    const stream = freshStream("public");
    await pushHttp(stream, { events: events(stream, 2) });
    const reader = await connect(stream, await token({ "public:*": "read" }, "reader"));
    await reader.hello();
    expect(await reader.eventsUntil(2)).toEqual([1, 2]);
    const refused = await reader.request({ t: "push", req: "w1", events: events(stream, 1) });
    expect(refused).toMatchObject({ t: "error", req: "w1", code: "forbidden" });
    const pulled = await reader.request({ t: "pull", req: "p1", after: 0 });
    expect(pulled).toMatchObject({ t: "events", req: "p1", head: 2 });
    expect(await logOf(stream)).toHaveLength(2);
  });
});

describe("WebSocket token transports", () => {
  it("accepts the token as an offered Sec-WebSocket-Protocol and echoes it back", async () => {
    const stream = freshStream();
    const value = await token({ [stream]: "write" });
    const response = await fetchNode(`/v1/streams/${stream}/ws`, {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": `chronicle.v1, ${value}` },
    });
    expect(response.status).toBe(101);
    expect(response.headers.get("Sec-WebSocket-Protocol")).toBe(value);
    response.webSocket!.accept();
    response.webSocket!.close();
  });

  it("stamps meta.actor from the token's subject", async () => {
    const stream = freshStream();
    const socket = await connect(stream, await token({ [stream]: "write" }, "dana"));
    await socket.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    const answer = await pushHttp(
      stream,
      { events: events(stream, 1) },
      await token({ [stream]: "write" }, "eve"),
    );
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ results: [{ actor: "eve" }] });
    expect((await logOf(stream)).map((e) => e.meta.actor)).toEqual(["dana", "eve"]);
  });
});

describe("token expiry on open sockets", () => {
  it("refuses frames once the socket's token has expired and closes it", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    await socket.hello();
    const stub = nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));
    await runInDurableObject(stub, (_instance, state) => {
      // As if the token's exp had passed while the socket stayed open.
      for (const ws of state.getWebSockets()) {
        ws.serializeAttachment({ ...(ws.deserializeAttachment() as object), exp: 1 });
      }
    });
    socket.send({ t: "push", req: "late", events: events(stream, 1) });
    expect(await socket.next()).toMatchObject({ t: "error", req: "late", code: "unauthorized" });
    expect((await socket.closed).code).toBe(4401);
    expect(await logOf(stream)).toEqual([]);
  });
});

describe("dev tokens", () => {
  it("issues working tokens when CHRONICLE_DEV is 1", async () => {
    const response = await fetchNode("/v1/dev/token", {
      method: "POST",
      body: JSON.stringify({ sub: "dev", streams: { "dev:*": "write" } }),
    });
    const { token: issued } = (await response.json()) as { token: string };
    expect((await pushHttp("dev:1", { events: events("dev:1", 1) }, issued)).status).toBe(200);
    const bad = await fetchNode("/v1/dev/token", { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
  });

  it("does not exist unless CHRONICLE_DEV is exactly 1", async () => {
    for (const flag of [undefined, "0", "true", "1 "]) {
      const env = { ...nodeEnv, CHRONICLE_DEV: flag };
      const response = await createSyncNode().fetch(
        new Request(`${origin}/v1/dev/token`, {
          method: "POST",
          body: JSON.stringify({ sub: "x", streams: { "*": "write" } }),
        }),
        env,
      );
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: "not-found" });
    }
  });

  it("answers internal 500 when no secret is configured", async () => {
    const response = await createSyncNode().fetch(
      new Request(`${origin}/v1/streams/s/events`, {
        headers: { Authorization: `Bearer ${await token()}` },
      }),
      { ...nodeEnv, CHRONICLE_SECRET: undefined },
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: "internal" });
  });
});

describe("HS256 per the RFCs", () => {
  const secret = () => new TextEncoder().encode(nodeEnv.CHRONICLE_SECRET!);
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: "rfc",
    streams: { "*": "write" },
    exp: inAnHour(),
    ...extra,
  });
  const hs256 = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const crit = Array.isArray(header.crit)
      ? { crit: Object.fromEntries((header.crit as string[]).map((name) => [name, true])) }
      : undefined;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", typ: "JWT", ...header })
      .sign(secret(), crit);
  };
  const status = async (value: string) => (await pullHttp(freshStream(), "", value)).status;

  it("honours nbf: a token not yet valid is refused, one already valid accepted", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await status(await hs256(claims({ nbf: now + 300 })))).toBe(401);
    expect(await status(await hs256(claims({ nbf: now - 5 })))).toBe(200);
  });

  it("refuses a token with a crit extension it does not understand", async () => {
    expect(await status(await hs256(claims(), { crit: ["x-magic"], "x-magic": 1 }))).toBe(401);
  });

  it("refuses other HMAC algorithms than HS256", async () => {
    const hs512 = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS512" })
      .sign(new Uint8Array(64).fill(7));
    expect(await status(hs512)).toBe(401);
  });

  it("has one spelling per token: a signature with non-zero trailing bits is refused", async () => {
    const valid = await token();
    expect(await status(valid)).toBe(200);
    // 32 signature bytes are 43 base64url characters; the last one carries 4 unused bits.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = valid.at(-1)!;
    const twin = alphabet[alphabet.indexOf(last) | 0b0001]!;
    expect(twin).not.toBe(last);
    expect(await status(valid.slice(0, -1) + twin)).toBe(401);
  });

  it("refuses a secret shorter than 32 bytes outside dev mode, with a clear error", async () => {
    const env = { ...nodeEnv, CHRONICLE_SECRET: "short-secret", CHRONICLE_DEV: undefined };
    const value = await signToken(claims() as never, "short-secret");
    const response = await createSyncNode().fetch(
      new Request(`${origin}/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${value}` },
      }),
      env,
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      code: "internal",
      message: expect.stringMatching(/12 bytes; it must be at least 32/),
    });
    // Dev mode accepts it (the workerd tier's own secret is short, with CHRONICLE_DEV=1).
    const dev = await createSyncNode().fetch(
      new Request(`${origin}/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${value}` },
      }),
      { ...env, CHRONICLE_DEV: "1" },
    );
    expect(dev.status).toBe(200);
    expect(() => createSyncNode({ auth: { secret: "short-secret" } })).toThrow(
      /auth\.secret: the HS256 secret is 12 bytes/,
    );
    expect(() => createSyncNode({ auth: { secret: "x".repeat(32) } })).not.toThrow();
  });
});

describe("tokens in URLs", () => {
  it("accepts ?token= on the WebSocket upgrade only, never on HTTP routes", async () => {
    const stream = freshStream();
    const value = await token();
    const pulled = await fetchNode(`/v1/streams/${stream}/events?token=${value}`);
    expect(pulled.status).toBe(401);
    expect(await pulled.json()).toMatchObject({
      code: "unauthorized",
      message: expect.stringMatching(/only on the WebSocket route/),
    });
    // Even beside a valid Authorization header: the token is in the URL (and the logs) already.
    const both = await fetchNode(`/v1/streams/${stream}/events?token=${value}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${value}` },
      body: JSON.stringify({ events: events(stream, 1) }),
    });
    expect(both.status).toBe(401);
    expect(await logOf(stream)).toEqual([]);
    const socket = await connect(stream, value);
    expect((await socket.hello()).t).toBe("welcome");
    socket.close();
  });
});

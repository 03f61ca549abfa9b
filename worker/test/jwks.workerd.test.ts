// Tokens from an identity provider: asymmetric JWTs verified against a JWKS (inline keys or a
// URL), with key rotation by kid, pinned algorithms, issuer/audience, clock skew and claim
// mapping. Keys are generated in the test with Web Crypto (through jose).
import { runInDurableObject } from "cloudflare:test";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signToken } from "../src/auth/jwt.ts";
import { createSyncNode, type SyncNodeJwksOptions } from "../src/index.ts";
import {
  connectApp,
  events,
  fetchApp,
  freshStream,
  nodeEnv,
  origin,
  type TestApp,
} from "./node-client.ts";

const issuer = "https://tenant.auth.example/";
const audience = "https://sync.example.com";
const now = () => Math.floor(Date.now() / 1000);

interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(kid: string, alg = "RS256"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

function sign(
  key: TestKey,
  payload: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  // jose signs a crit header only for extensions it is told it understands.
  const crit = Array.isArray(header.crit)
    ? { crit: Object.fromEntries((header.crit as string[]).map((name) => [name, true])) }
    : undefined;
  return new SignJWT({
    sub: "pat",
    streams: { "*": "write" },
    iss: issuer,
    aud: audience,
    exp: now() + 600,
    ...payload,
  } as JWTPayload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
    .sign(key.privateKey, crit);
}

function nodeWith(jwks: SyncNodeJwksOptions, extra: Parameters<typeof createSyncNode>[0] = {}) {
  return createSyncNode({ ...extra, auth: { jwks: { issuer, audience, ...jwks }, ...extra.auth } });
}

async function statusOf(app: TestApp, tokenValue: string, stream = freshStream()) {
  const response = await fetchApp(app, `/v1/streams/${stream}/events`, {
    headers: { Authorization: `Bearer ${tokenValue}` },
  });
  const body = (await response.json()) as { code?: string; message?: string };
  return { status: response.status, code: body.code, message: body.message };
}

describe("JWKS: inline keys", () => {
  it("accepts RS256, ES256 and EdDSA tokens signed by a listed key", async () => {
    const keys = await Promise.all([
      makeKey("rsa", "RS256"),
      makeKey("ec", "ES256"),
      makeKey("ed", "EdDSA"),
    ]);
    const app = nodeWith({ keys: keys.map((key) => key.jwk) });
    for (const key of keys) expect((await statusOf(app, await sign(key))).status).toBe(200);
  });

  it("refuses tokens the provider did not sign for this node", async () => {
    const key = await makeKey("a");
    const stranger = await makeKey("a"); // same kid, another key
    const app = nodeWith({ keys: [key.jwk] });
    const refused: Array<[string, Promise<string>]> = [
      ["another key with the same kid", sign(stranger)],
      ["an unknown kid", sign({ ...key, kid: "nope" })],
      ["another issuer", sign(key, { iss: "https://evil.example/" })],
      ["another audience", sign(key, { aud: "https://other-app.example" })],
      ["no exp", sign(key, { exp: undefined })],
      ["exp past the skew", sign(key, { exp: now() - 120 })],
      ["nbf past the skew", sign(key, { nbf: now() + 120 })],
      ["an unknown crit extension", sign(key, {}, { crit: ["x-magic"], "x-magic": true })],
      ["no streams claim", sign(key, { streams: undefined })],
      ["no subject", sign(key, { sub: undefined })],
    ];
    for (const [name, made] of refused) {
      expect(await statusOf(app, await made), name).toMatchObject({
        status: 401,
        code: "unauthorized",
      });
    }
  });

  it("allows the clock skew on exp and nbf (60 s by default, configurable)", async () => {
    const key = await makeKey("a");
    const app = nodeWith({ keys: [key.jwk] });
    expect((await statusOf(app, await sign(key, { exp: now() - 30 }))).status).toBe(200);
    expect((await statusOf(app, await sign(key, { nbf: now() + 30 }))).status).toBe(200);
    const strict = nodeWith({ keys: [key.jwk], clockSkewSeconds: 0 });
    expect((await statusOf(strict, await sign(key, { exp: now() - 30 }))).status).toBe(401);
    expect((await statusOf(strict, await sign(key, { nbf: now() + 30 }))).status).toBe(401);
  });

  it("pins the algorithms: another alg, none, or HS256 made with the public key is refused", async () => {
    const rsa = await makeKey("rsa", "RS256");
    const ec = await makeKey("ec", "ES256");
    const app = nodeWith({ keys: [rsa.jwk, ec.jwk], algorithms: ["RS256"] });
    expect((await statusOf(app, await sign(rsa))).status).toBe(200);
    expect(await statusOf(app, await sign(ec))).toMatchObject({ status: 401 });
    // Algorithm confusion: HS256 keyed with the provider's public key goes to the HS256
    // verifier, which uses the node's own secret.
    const confused = await signToken(
      { sub: "m", streams: { "*": "write" }, exp: now() + 600 },
      JSON.stringify(rsa.jwk),
    );
    expect(await statusOf(app, confused)).toMatchObject({ status: 401 });
    const header = btoa(JSON.stringify({ alg: "none", kid: "rsa" })).replace(/=+$/, "");
    const payload = btoa(JSON.stringify({ sub: "m", streams: {}, iss: issuer, exp: now() + 60 }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    expect(await statusOf(app, `${header}.${payload}.`)).toMatchObject({ status: 401 });
  });

  it("accepts HS256 tokens beside JWKS ones when a secret is set, and only JWKS ones without", async () => {
    const key = await makeKey("a");
    const hs = await signToken(
      { sub: "backend", streams: { "*": "write" }, exp: now() + 600 },
      nodeEnv.CHRONICLE_SECRET!,
    );
    const both = nodeWith({ keys: [key.jwk] });
    expect((await statusOf(both, hs)).status).toBe(200);
    expect((await statusOf(both, await sign(key))).status).toBe(200);
    const env = { ...nodeEnv, CHRONICLE_SECRET: undefined };
    const onlyJwks = nodeWith({ keys: [key.jwk] });
    const response = await onlyJwks.fetch(
      new Request(`${origin}/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${hs}` },
      }),
      env,
    );
    expect(response.status).toBe(401);
  });
});

describe("JWKS: from a URL, with rotation", () => {
  it("refuses a retired key's tokens and accepts the new key's", async () => {
    const a = await makeKey("a");
    const b = await makeKey("b");
    let published: JWK[] = [a.jwk];
    const fetched: string[] = [];
    const app = nodeWith({
      url: "https://tenant.auth.example/.well-known/jwks.json",
      // Fetched on every verification here, so the test sees a rotation at once; the default
      // caches the set for 10 minutes and refetches sooner for an unknown kid.
      cacheMaxAgeSeconds: 0,
      fetch: async (url) => {
        fetched.push(url);
        return Response.json({ keys: published });
      },
    });
    const tokenA = await sign(a);
    expect((await statusOf(app, tokenA)).status).toBe(200);
    expect(fetched).toEqual(["https://tenant.auth.example/.well-known/jwks.json"]);

    // The provider rotates: B is added and A retired.
    published = [b.jwk];
    expect(await statusOf(app, tokenA)).toMatchObject({ status: 401, code: "unauthorized" });
    expect((await statusOf(app, await sign(b))).status).toBe(200);
  });

  it("fetches a new kid again with the default cache, and keeps the set otherwise", async () => {
    const a = await makeKey("a");
    const b = await makeKey("b");
    let published: JWK[] = [a.jwk];
    let fetches = 0;
    const app = nodeWith({
      url: "https://tenant.auth.example/jwks",
      fetch: async () => {
        fetches += 1;
        return Response.json({ keys: published });
      },
    });
    for (let i = 0; i < 3; i++) expect((await statusOf(app, await sign(a))).status).toBe(200);
    expect(fetches).toBe(1);
    published = [a.jwk, b.jwk];
    // Within 30 s of the last fetch an unknown kid is not fetched again (a flood of made-up kids
    // cannot hammer the provider): refused now, accepted once the cooldown has passed.
    expect((await statusOf(app, await sign(b))).status).toBe(401);
    vi.useFakeTimers({ now: Date.now() + 31_000, toFake: ["Date"] });
    try {
      expect((await statusOf(app, await sign(b))).status).toBe(200);
      expect(fetches).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers internal when the JWKS cannot be fetched (not the client's fault)", async () => {
    const a = await makeKey("a");
    const app = nodeWith({
      url: "https://tenant.auth.example/down",
      fetch: async () => new Response("unavailable", { status: 503 }),
    });
    expect(await statusOf(app, await sign(a))).toMatchObject({ status: 500, code: "internal" });
  });
});

describe("JWKS: configured by env vars", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("reads the URL, issuer, audience and the streams claim from the env", async () => {
    const key = await makeKey("k1", "ES256");
    const requested: string[] = [];
    vi.stubGlobal("fetch", async (input: RequestInfo | URL) => {
      requested.push(String(input instanceof Request ? input.url : input));
      return Response.json({ keys: [key.jwk] });
    });
    const env = {
      ...nodeEnv,
      CHRONICLE_JWKS_URL: "https://env-tenant.example/.well-known/jwks.json",
      CHRONICLE_JWT_ISSUER: issuer,
      CHRONICLE_JWT_AUDIENCE: `https://other.example, ${audience}`,
      CHRONICLE_JWT_STREAMS_CLAIM: "app_metadata.streams",
    };
    const app = createSyncNode();
    const call = async (tokenValue: string) =>
      (
        await app.fetch(
          new Request(`${origin}/v1/streams/${freshStream()}/events`, {
            headers: { Authorization: `Bearer ${tokenValue}` },
          }),
          env,
        )
      ).status;
    const grants = { streams: undefined, app_metadata: { streams: { "board:*": "read" } } };
    expect(await call(await sign(key, grants))).toBe(200);
    expect(requested).toEqual(["https://env-tenant.example/.well-known/jwks.json"]);
    expect(await call(await sign(key, { ...grants, aud: "https://nope.example" }))).toBe(401);
    // The grants come from the mapped claim only: `streams` at the top level is not read.
    expect(await call(await sign(key, { streams: { "*": "write" } }))).toBe(401);
  });

  it("answers internal when a JWKS is configured without an issuer", async () => {
    const key = await makeKey("k1");
    vi.stubGlobal("fetch", async () => Response.json({ keys: [key.jwk] }));
    const response = await createSyncNode().fetch(
      new Request(`${origin}/v1/streams/${freshStream()}/events`, {
        headers: { Authorization: `Bearer ${await sign(key)}` },
      }),
      { ...nodeEnv, CHRONICLE_JWKS_URL: "https://env-tenant.example/jwks" },
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ message: expect.stringMatching(/issuer/) });
  });
});

describe("JWKS: claims and sockets", () => {
  it("maps a provider's custom claim to the stream grants", async () => {
    const key = await makeKey("a");
    const app = nodeWith(
      { keys: [key.jwk] },
      {
        auth: {
          claims: (payload) => ({
            sub: payload.sub!,
            streams: payload["https://example.com/streams"] as Record<string, "read" | "write">,
          }),
        },
      },
    );
    const stream = freshStream("board");
    const grants = { streams: undefined, "https://example.com/streams": { "board:*": "write" } };
    expect((await statusOf(app, await sign(key, grants), stream)).status).toBe(200);
    expect((await statusOf(app, await sign(key, grants), "other:1")).status).toBe(403);
  });

  it("lets a claims mapping shorten a token's life, never lengthen it", async () => {
    const key = await makeKey("a");
    const stretch = nodeWith(
      { keys: [key.jwk], clockSkewSeconds: 0 },
      { auth: { claims: (p) => ({ sub: p.sub!, streams: { "*": "write" }, exp: now() + 9e6 }) } },
    );
    // The socket's deadline is the token's exp, not the mapping's.
    const stream = freshStream();
    const socket = await connectApp(stretch, stream, await sign(key, { exp: now() + 600 }));
    const stub = nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeLessThanOrEqual((now() + 601) * 1000);
    socket.close();
    const shorten = nodeWith(
      { keys: [key.jwk], clockSkewSeconds: 0 },
      { auth: { claims: (p) => ({ sub: p.sub!, streams: { "*": "write" }, exp: now() - 1 }) } },
    );
    expect((await statusOf(shorten, await sign(key))).status).toBe(401);
  });

  it("opens sockets with provider tokens and stamps the provider's subject", async () => {
    const key = await makeKey("a", "EdDSA");
    const app = nodeWith({ keys: [key.jwk] });
    const stream = freshStream();
    const socket = await connectApp(app, stream, await sign(key, { sub: "auth0|123" }));
    const ack = await socket.request({ t: "push", req: "p", events: events(stream, 1) });
    expect(ack).toMatchObject({ t: "ack", results: [{ actor: "auth0|123" }] });
    socket.close();
  });

  it("refuses options that can never work when the node is created", () => {
    expect(() => createSyncNode({ auth: { jwks: { algorithms: ["HS256" as never] } } })).toThrow(
      /HS256 is not an asymmetric/,
    );
    expect(() => createSyncNode({ auth: { jwks: { url: "not a url" } } })).toThrow();
    expect(() => createSyncNode({ auth: { jwks: { clockSkewSeconds: -1 } } })).toThrow(
      /clockSkewSeconds/,
    );
  });
});

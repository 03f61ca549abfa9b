// The pluggable sign-in (`createSyncNode({ signIn })`, `POST /v1/sign-in`): an app's function
// grants, the node signs a short-lived token that works on the stream routes for the granted
// streams only. The ready-made anonymousSignIn gives each visitor an identity of its own (a
// signed cookie), short tokens and a rate limit per client address.
import { ChronicleError } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { anonymousSignIn, createSyncNode, type SignInAnswer } from "../src/index.ts";
import {
  connectApp,
  events,
  fetchApp,
  fetchNode,
  freshStream,
  nextReq,
  type TestApp,
} from "./node-client.ts";

let addressCounter = 0;
/** A client address no other test uses (the limit is per address). */
const freshAddress = () => `203.0.113.${++addressCounter}`;

async function signIn(
  app: TestApp,
  { address = freshAddress(), cookie }: { address?: string; cookie?: string } = {},
) {
  const headers: Record<string, string> = { "CF-Connecting-IP": address };
  if (cookie !== undefined) headers.Cookie = cookie;
  return fetchApp(app, "/v1/sign-in", { method: "POST", headers });
}

/** The `name=value` part of the answer's Set-Cookie, as a browser sends it back. */
const cookieOf = (response: Response) => response.headers.get("Set-Cookie")?.split(";")[0] ?? "";

const pull = (app: TestApp, stream: string, token: string) =>
  fetchApp(app, `/v1/streams/${stream}/events`, { headers: { Authorization: `Bearer ${token}` } });

describe("anonymousSignIn", () => {
  it("gives a visitor a short-lived token that works on the granted streams only", async () => {
    const app = createSyncNode({ signIn: anonymousSignIn({ streams: { "board:*": "write" } }) });
    const before = Math.floor(Date.now() / 1000);
    const response = await signIn(app);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const answer = (await response.json()) as SignInAnswer;
    expect(answer.sub).toMatch(/^visitor-[0-9a-f-]{36}$/);
    expect(answer.streams).toEqual({ "board:*": "write" });
    // Ten minutes by default.
    expect(answer.expiresAt - before).toBeGreaterThanOrEqual(600);
    expect(answer.expiresAt - before).toBeLessThanOrEqual(601);
    const setCookie = response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/^chronicle_visitor=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);

    // The token syncs on a board stream: the node stamps the visitor as the actor.
    const stream = freshStream("board");
    const socket = await connectApp(app, stream, answer.token);
    await socket.hello();
    const ack = await socket.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 1, actor: answer.sub }] });
    socket.close();
    expect((await pull(app, stream, answer.token)).status).toBe(200);

    // Nothing else.
    const elsewhere = await pull(app, freshStream("notes"), answer.token);
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toMatchObject({ code: "forbidden" });
  });

  it("keeps a visitor's identity in its signed cookie; a tampered cookie is a new visitor", async () => {
    const app = createSyncNode({ signIn: anonymousSignIn({ streams: { "board:*": "write" } }) });
    const first = await signIn(app);
    const { sub } = (await first.json()) as SignInAnswer;
    const cookie = cookieOf(first);

    const again = (await (await signIn(app, { cookie })).json()) as SignInAnswer;
    expect(again.sub).toBe(sub);

    const other = (await (await signIn(app)).json()) as SignInAnswer;
    expect(other.sub).not.toBe(sub);

    // Another visitor's id under the first one's signature is not accepted.
    const forged = cookie.replace(
      encodeURIComponent(sub),
      encodeURIComponent(other.sub.replace(/.$/, (c) => (c === "0" ? "1" : "0"))),
    );
    expect(forged).not.toBe(cookie);
    const refused = (await (await signIn(app, { cookie: forged })).json()) as SignInAnswer;
    expect([sub, other.sub]).not.toContain(refused.sub);
  });

  it("tokens expire; the same visitor signs in again for a fresh one", async () => {
    const app = createSyncNode({
      signIn: anonymousSignIn({ streams: { "board:*": "write" }, ttlSeconds: 1 }),
    });
    const stream = freshStream("board");
    const first = await signIn(app);
    const cookie = cookieOf(first);
    const { token, sub, expiresAt } = (await first.json()) as SignInAnswer;
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    // Within a couple of seconds (exp is in whole seconds) the token is refused.
    await expect
      .poll(async () => (await pull(app, stream, token)).status, { timeout: 5_000, interval: 200 })
      .toBe(401);
    const expired = await pull(app, stream, token);
    expect(await expired.json()).toMatchObject({ code: "unauthorized" });

    const fresh = (await (await signIn(app, { cookie })).json()) as SignInAnswer;
    expect(fresh.sub).toBe(sub);
    expect((await pull(app, stream, fresh.token)).status).toBe(200);
  }, 15_000);

  it("refuses the sign-in over the limit with 429, Retry-After and a coded body", async () => {
    const app = createSyncNode({
      signIn: anonymousSignIn({
        streams: { "board:*": "write" },
        rateLimit: { perMinute: 1, burst: 3 },
      }),
    });
    const address = freshAddress();
    for (let i = 0; i < 3; i++) expect((await signIn(app, { address })).status).toBe(200);
    const limited = await signIn(app, { address });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    // One sign-in a minute: the next comes back within a minute.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ code: "rate-limited", retryAfter });
    expect(limited.headers.get("Set-Cookie")).toBeNull();
    // Another address is not held by this one's count.
    expect((await signIn(app)).status).toBe(200);
  });

  it("a Workers Rate Limiting binding refuses with 429 and Retry-After: 60", async () => {
    const keys: string[] = [];
    let allow = true;
    const app = createSyncNode({
      signIn: anonymousSignIn({
        streams: { "board:*": "write" },
        limiter: () => ({
          limit: async ({ key }) => {
            keys.push(key);
            return { success: allow };
          },
        }),
      }),
    });
    expect((await signIn(app, { address: "198.51.100.7" })).status).toBe(200);
    allow = false;
    const limited = await signIn(app, { address: "198.51.100.7" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(await limited.json()).toMatchObject({ code: "rate-limited", retryAfter: 60 });
    expect(keys).toEqual(["198.51.100.7", "198.51.100.7"]);
  });

  it("grants per-visitor streams from a function of the subject", async () => {
    const app = createSyncNode({
      signIn: anonymousSignIn({ streams: (sub) => ({ [`notes:${sub}`]: "write" }) }),
    });
    const { sub, streams, token } = (await (await signIn(app)).json()) as SignInAnswer;
    expect(streams).toEqual({ [`notes:${sub}`]: "write" });
    expect((await pull(app, `notes:${sub}`, token)).status).toBe(200);
  });

  it("refuses options that can never work at once", () => {
    expect(() => anonymousSignIn({ streams: {}, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => anonymousSignIn({ streams: {}, rateLimit: { burst: 0 } })).toThrow(/burst/);
  });
});

describe("a custom signIn", () => {
  it("signs what the app grants, for the app's time", async () => {
    const app = createSyncNode({
      signIn: (c) => {
        if (c.req.header("Authorization") !== "Session good") {
          throw new ChronicleError("unauthorized", "sign in first");
        }
        return { sub: "user-42", streams: { "team:acme:*": "read" }, ttlSeconds: 120 };
      },
    });
    const response = await fetchApp(app, "/v1/sign-in", {
      method: "POST",
      headers: { Authorization: "Session good" },
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as SignInAnswer;
    expect(answer).toMatchObject({ sub: "user-42", streams: { "team:acme:*": "read" } });
    expect(answer.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(119);
    // Read-only: pulls are served, pushes are forbidden.
    expect((await pull(app, "team:acme:roadmap", answer.token)).status).toBe(200);
    const push = await fetchApp(app, "/v1/streams/team:acme:roadmap/events", {
      method: "POST",
      headers: { Authorization: `Bearer ${answer.token}` },
      body: JSON.stringify({ events: events("team:acme:roadmap", 1) }),
    });
    expect(push.status).toBe(403);
  });

  it("its refusals are coded: 401 unauthorized, 403 forbidden", async () => {
    const app = createSyncNode({
      signIn: (c) => {
        const who = c.req.header("X-Who");
        if (who === undefined) throw new ChronicleError("unauthorized", "sign in first");
        throw new ChronicleError("forbidden", `${who} may not use this board`, {
          details: { who },
        });
      },
    });
    const anonymous = await fetchApp(app, "/v1/sign-in", { method: "POST" });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ code: "unauthorized", message: "sign in first" });
    const mallory = await fetchApp(app, "/v1/sign-in", {
      method: "POST",
      headers: { "X-Who": "mallory" },
    });
    expect(mallory.status).toBe(403);
    expect(await mallory.json()).toMatchObject({ code: "forbidden", who: "mallory" });
  });

  it("a malformed grant is the app's bug: internal, and no token", async () => {
    for (const grant of [
      { sub: "", streams: { "board:*": "write" } },
      { sub: "a", streams: { "board:*": "admin" } },
      { sub: "a", streams: { "board:*": "write" }, ttlSeconds: 0 },
      { sub: "a", streams: { "board:*": "write" }, ttlSeconds: 86_401 },
    ]) {
      const app = createSyncNode({ signIn: () => grant as never });
      const response = await fetchApp(app, "/v1/sign-in", { method: "POST" });
      expect(response.status).toBe(500);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ code: "internal" });
      expect(body.token).toBeUndefined();
    }
  });
});

describe("without a signIn", () => {
  it("the route does not exist: 404, coded", async () => {
    const app = createSyncNode();
    const response = await signIn(app);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "not-found" });
  });
});

describe("the repository's node (worker/main.ts: the demo's)", () => {
  it("signs visitors in for the demo's boards", async () => {
    const response = await fetchNode("/v1/sign-in", {
      method: "POST",
      headers: { "CF-Connecting-IP": freshAddress() },
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as SignInAnswer;
    expect(answer.sub).toMatch(/^visitor-/);
    expect(answer.streams).toMatchObject({ "board:*": "write" });
  });
});

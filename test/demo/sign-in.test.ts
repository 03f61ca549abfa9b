// The demo's token function (demo/src/sign-in.ts): one sign-in per token life however many
// sockets ask at once, a fresh sign-in shortly before the token runs out, and a refused sign-in
// as a coded error (429 is rate-limited, so the sync client backs off and tries again).
import { ChronicleError } from "@chronicle/core";
import { afterEach, beforeAll, expect, it, vi } from "vitest";

let visitorToken: typeof import("../../demo/src/sign-in.ts").visitorToken;
let nodeUrl: string;

beforeAll(async () => {
  // The module reads the worker's origin when it loads.
  vi.stubGlobal("self", { location: { origin: "https://demo.example" } });
  ({ visitorToken, nodeUrl } = await import("../../demo/src/sign-in.ts"));
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function stubSignIns(answer: (count: number) => Response) {
  const calls: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push(`${init.method} ${url}`);
      return answer(calls.length);
    }),
  );
  return calls;
}

const signedIn = (count: number, ttlSeconds: number) =>
  Response.json({
    token: `token-${count}`,
    sub: "visitor-1",
    streams: { "board:*": "write" },
    expiresAt: Math.floor(Date.now() / 1000) + ttlSeconds,
  });

it("reaches the node through the dev proxy's /sync unless the build says otherwise", () => {
  expect(nodeUrl).toBe("https://demo.example/sync");
});

it("signs in once for many callers and keeps the token until 30 s before it runs out", async () => {
  vi.useFakeTimers({ now: new Date("2026-11-30T20:00:00Z") });
  const calls = stubSignIns((count) => signedIn(count, 600));
  const token = visitorToken("https://node.example");
  // A transport and a follower asking at once share one sign-in.
  expect(await Promise.all([token(), token()])).toEqual(["token-1", "token-1"]);
  expect(calls).toEqual(["POST https://node.example/v1/sign-in"]);

  vi.setSystemTime(Date.now() + 560_000); // 40 s left: still good
  expect(await token()).toBe("token-1");
  vi.setSystemTime(Date.now() + 20_000); // 20 s left: sign in again
  expect(await token()).toBe("token-2");
  expect(calls).toHaveLength(2);
});

it("a refused sign-in is a coded error; the next call tries again", async () => {
  const calls = stubSignIns((count) =>
    count === 1
      ? Response.json(
          { code: "rate-limited", message: "too many sign-ins", retryAfter: 7 },
          { status: 429, headers: { "Retry-After": "7" } },
        )
      : signedIn(count, 600),
  );
  const token = visitorToken("https://node.example");
  const refused = await token().catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(ChronicleError);
  expect(refused).toMatchObject({ code: "rate-limited" });
  expect((refused as Error).message).toContain("too many sign-ins");
  expect(await token()).toBe("token-2");
  expect(calls).toHaveLength(2);
});

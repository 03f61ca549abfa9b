// A ready-made sign-in for demos and try-before-you-sign-up apps: every visitor gets an anonymous
// identity of its own (a random subject kept in a signed, HttpOnly cookie, so a reload or a
// second tab is the same visitor) and short-lived tokens for the streams the app grants,
// rate limited per client address.

import { ChronicleError } from "@chronicle/core";
import type { StreamAccess } from "@chronicle/sync/protocol";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import type { SyncNodeEnv } from "../env.ts";
import { AddressLimiter, signInsLimited } from "./address-limiter.ts";
import type { SignIn, SignInGrant } from "./sign-in.ts";

/** Sign-ins allowed per client address (in each isolate: see {@link AnonymousSignInOptions.rateLimit}). */
export interface SignInRateLimit {
  /** Sign-ins per minute, on average. @default 10 */
  perMinute?: number;
  /** Sign-ins at once. @default 20 */
  burst?: number;
}

/**
 * A Workers Rate Limiting binding (wrangler `[[ratelimits]]`), or anything with its `limit`
 * method: one count for the whole deployment rather than per isolate.
 */
export interface SignInRateLimiter {
  /** Counts one sign-in for `key`; `success: false` refuses it. */
  limit(options: {
    /** The client address. */
    key: string;
  }): Promise<{
    /** False when the key is over its limit: the sign-in is refused. */
    success: boolean;
  }>;
}

/** Options of {@link anonymousSignIn}. */
export interface AnonymousSignInOptions<E extends SyncNodeEnv = SyncNodeEnv> {
  /**
   * What every visitor may do: stream patterns to `"read"` or `"write"`, or a function of the
   * visitor's subject (e.g. a private space per visitor).
   *
   * @example { "board:*": "write" }
   * @example (sub) => ({ [`notes:${sub}:*`]: "write", "public:*": "read" })
   */
  streams: Record<string, StreamAccess> | ((sub: string, env: E) => Record<string, StreamAccess>);
  /** How long a token lives, in seconds: clients sign in again when it runs out. @default 600 */
  ttlSeconds?: number;
  /**
   * Sign-ins per client address (`CF-Connecting-IP`; requests without it share one count),
   * counted in the isolate's memory: Cloudflare runs many isolates, so this bounds each of them.
   * Over it, the sign-in answers 429 `rate-limited` with `Retry-After`.
   *
   * @default { perMinute: 10, burst: 20 }
   */
  rateLimit?: SignInRateLimit;
  /**
   * A Workers Rate Limiting binding checked after `rateLimit`, keyed by client address, for one
   * count across the deployment. A refusal answers 429 with `Retry-After: 60`.
   *
   * @default none
   * @example limiter: (env) => env.SIGN_IN_LIMITER
   */
  limiter?: (env: E) => SignInRateLimiter | undefined;
  /** The cookie that keeps the visitor's identity. @default "chronicle_visitor" */
  cookieName?: string;
  /**
   * The key the cookie is signed with (HMAC-SHA256, hono's signed cookies; kept apart from the
   * token key by a label). @default env.CHRONICLE_SECRET
   */
  secret?: (env: E) => string | undefined;
}

const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * A {@link SignIn} that gives every visitor an anonymous identity (`visitor-<uuid>`, kept in a
 * signed HttpOnly cookie) and a short-lived token for `streams`, rate limited per client
 * address. For demos and guest access; a real app plugs its own sign-in instead (see the node's
 * README, "Sign-in").
 *
 * @example
 * export default createSyncNode({
 *   signIn: anonymousSignIn({ streams: { "board:*": "write" }, ttlSeconds: 600 }),
 * });
 */
export function anonymousSignIn<E extends SyncNodeEnv = SyncNodeEnv>(
  options: AnonymousSignInOptions<E>,
): SignIn<E> {
  const { ttlSeconds = 600, cookieName = "chronicle_visitor" } = options;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) {
    throw new Error(`ttlSeconds must be an integer from 1 to 86400, got ${String(ttlSeconds)}`);
  }
  const limiter = new AddressLimiter({
    perMinute: options.rateLimit?.perMinute ?? 10,
    burst: options.rateLimit?.burst ?? 20,
  });
  const cookieKey = (env: E): string => {
    const secret = options.secret ? options.secret(env) : env.CHRONICLE_SECRET;
    if (!secret) {
      throw new ChronicleError(
        "internal",
        "anonymousSignIn needs a key for its cookie: CHRONICLE_SECRET is not configured",
      );
    }
    // A label keeps the cookie's HMAC key apart from the token key.
    return `chronicle visitor cookie\u0000${secret}`;
  };

  return async (c): Promise<SignInGrant> => {
    const address = c.req.header("CF-Connecting-IP") ?? "unknown";
    limiter.take(address);
    const binding = options.limiter?.(c.env);
    if (binding && !(await binding.limit({ key: address })).success) {
      throw signInsLimited(60, "the deployment's rate limit");
    }
    const key = cookieKey(c.env);
    const kept = await getSignedCookie(c, key, cookieName);
    const sub = typeof kept === "string" && kept.startsWith("visitor-") ? kept : newVisitor();
    await setSignedCookie(c, cookieName, sub, key, {
      httpOnly: true,
      sameSite: "Lax",
      path: "/",
      secure: new URL(c.req.url).protocol === "https:",
      maxAge: YEAR_SECONDS,
    });
    const streams =
      typeof options.streams === "function" ? options.streams(sub, c.env) : options.streams;
    return { sub, streams, ttlSeconds };
  };
}

const newVisitor = () => `visitor-${crypto.randomUUID()}`;

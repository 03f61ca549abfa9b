// The pluggable sign-in (`createSyncNode({ signIn })`): the one place an app turns "who is this
// visitor" into a short-lived node token. The app's function decides the grants (or refuses with
// a coded error); the node signs them as an HS256 token with its own secret (auth/jwt.ts, jose),
// so the token works on every stream route like any other.
import type { StreamAccess } from "@chronicle/sync/protocol";
import type { Context } from "hono";
import type { SyncNodeEnv } from "../env.ts";

/** What a sign-in grants the caller: who it is and what it may do, for how long. */
export interface SignInGrant {
  /** The caller's subject: stamped as `meta.actor` on what it pushes; rate limits are per subject. */
  sub: string;
  /** Stream patterns (an exact id, or a prefix ending in `*`) to `"read"` or `"write"`. */
  streams: Record<string, StreamAccess>;
  /**
   * How long the token lives, in seconds (1 to 86400). Keep it short: clients sign in again
   * when it runs out, and a refused sign-in ends the access within this time.
   *
   * @default 900 (15 minutes)
   */
  ttlSeconds?: number;
}

/**
 * The app's sign-in: reads the request (a session cookie, an `Authorization` header, a body,
 * `c.env` for its own bindings), and returns the grants of the signed-in caller, or throws a
 * `ChronicleError` to refuse: `unauthorized` (401) for "not signed in", `forbidden` (403) for
 * "signed in but not allowed", `rate-limited` (429, `details.retryAfter` seconds becomes
 * `Retry-After`). Any other error answers `internal` (500), logged. It may set response headers
 * (a cookie) through `c.header` or hono's cookie helpers.
 *
 * @example
 * // Exchange your identity provider's session for a node token.
 * const signIn: SignIn<Env> = async (c) => {
 *   const user = await c.env.AUTH.fetch("https://auth/session", { headers: c.req.raw.headers })
 *     .then((response) => (response.ok ? response.json<{ id: string; team: string }>() : undefined));
 *   if (!user) throw new ChronicleError("unauthorized", "sign in first");
 *   return { sub: user.id, streams: { [`team:${user.team}:*`]: "write" }, ttlSeconds: 600 };
 * };
 */
export type SignIn<E extends SyncNodeEnv = SyncNodeEnv> = (
  c: Context<{ Bindings: E }>,
) => SignInGrant | Promise<SignInGrant>;

/** The answer of `POST /v1/sign-in`. */
export interface SignInAnswer {
  /** The HS256 token: `Authorization: Bearer <token>`, or the WebSocket route's `?token=`. */
  token: string;
  /** The subject the token names. */
  sub: string;
  /** The grants the token carries. */
  streams: Record<string, StreamAccess>;
  /** When the token stops working, in seconds since the epoch: sign in again before then. */
  expiresAt: number;
}

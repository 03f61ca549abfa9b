// What an app may configure in createSyncNode. Every option is optional: left out, it comes from
// the env vars of wrangler.toml (or .dev.vars / `wrangler secret put`), as the README lists.
import type { SyncNodeEnv, SyncNodeLimits } from "./env.ts";

/** How the node verifies tokens. Only HS256 today; other schemes will be fields beside `secret`. */
export interface SyncNodeAuthOptions<E extends SyncNodeEnv = SyncNodeEnv> {
  /**
   * The HS256 key tokens are signed with, or a function reading it from the env (called on each
   * request that needs it). A node without a key answers `internal` to every authenticated route.
   *
   * @default env.CHRONICLE_SECRET
   * @example
   * createSyncNode({ auth: { secret: (env) => env.TOKEN_KEY } });
   */
  secret?: string | ((env: E) => string | undefined);
}

/** Which web origins may call the HTTP API from a browser. */
export interface SyncNodeCorsOptions {
  /**
   * `"*"` for any origin, or the exact origins allowed (`"https://app.example.com"`). Tokens
   * travel in the Authorization header, never in cookies, so `"*"` exposes nothing by itself.
   *
   * @default "*"
   */
  origins?: "*" | readonly string[];
}

/**
 * Options of {@link createSyncNode}.
 *
 * @example
 * export default createSyncNode({
 *   limits: { maxEventBytes: 16_384, ratePerSecond: 20 },
 *   cors: { origins: ["https://board.example.com"] },
 * });
 */
export interface SyncNodeOptions<E extends SyncNodeEnv = SyncNodeEnv> {
  /**
   * Limits the node enforces. A limit set here wins over its env var; one left out comes from its
   * env var (`MAX_EVENT_BYTES`, `MAX_EVENTS_PER_PUSH`, `MAX_FRAME_BYTES`,
   * `RATE_LIMIT_PER_SECOND`, `RATE_LIMIT_BURST`), else from the default. The StreamLog object
   * receives them with every call: it needs no configuration of its own.
   *
   * @default {} (env vars, else 65536 / 500 / 1048576 / 100 / 200)
   */
  limits?: Partial<SyncNodeLimits>;
  /** Token verification. @default { secret: env.CHRONICLE_SECRET } */
  auth?: SyncNodeAuthOptions<E>;
  /**
   * CORS for the HTTP API (preflights for `Authorization` and `Content-Type` are answered; the
   * epoch header is exposed to scripts). `false` sends no CORS headers at all: only pages on the
   * node's own origin (and non-browser clients) can then use the HTTP API.
   *
   * @default { origins: "*" }
   */
  cors?: SyncNodeCorsOptions | false;
  /**
   * Whether `POST /v1/dev/token` exists: it signs a token for anyone who asks, so it is for local
   * development only. Never enable it in production.
   *
   * @default env.CHRONICLE_DEV === "1"
   */
  devTokenRoute?: boolean;
}

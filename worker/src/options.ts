// What an app may configure in createSyncNode. Every option is optional: left out, it comes from
// the env vars of wrangler.toml (or .dev.vars / `wrangler secret put`), as the README lists.
import type { SnapshotDefinitions, StreamAccess } from "@chronicle/sync/protocol";
import type { JWK, JWTPayload } from "jose";
import type { SyncNodeEnv, SyncNodeLimits } from "./env.ts";
import type { SyncNodeProcessOptions } from "./processes/process-options.ts";
import type { SignIn } from "./sign-in/sign-in.ts";

/** The stream grants a token carries, as the node reads them (see {@link SyncNodeAuthOptions.claims}). */
export interface TokenGrants {
  /** Who the caller is: stamped as `meta.actor` on what it pushes; rate limits are per subject. */
  sub: string;
  /** Stream patterns (an exact id, or a prefix ending in `*`) to `"read"` or `"write"`. */
  streams: Record<string, StreamAccess>;
  /**
   * Expiry, seconds since the epoch: it may end the caller's access (and its sockets) before the
   * token's `exp`, never after. @default the token's `exp` claim
   */
  exp?: number;
}

/** The asymmetric algorithms a JWKS may sign with. */
export type JwksAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519";

/**
 * Tokens signed by your identity provider (Auth0, Clerk, Supabase, Cognito, Firebase, ...): their
 * public keys come from the provider's JWKS URL or are given inline; a token names its key by
 * `kid`, so keys rotate without a redeploy.
 */
export interface SyncNodeJwksOptions {
  /**
   * The provider's JWKS URL. Fetched on first use and cached (`cacheMaxAgeSeconds`); a token
   * whose `kid` is not in the cached set fetches it again (at most every 30 s).
   *
   * @default env.CHRONICLE_JWKS_URL
   * @example "https://your-tenant.us.auth0.com/.well-known/jwks.json"
   */
  url?: string;
  /** Public keys given inline (JWKs with `kid`), tried before the URL's. */
  keys?: readonly JWK[];
  /**
   * The only algorithms accepted (a token's `alg` must be one of them; HS* is never accepted
   * here: symmetric tokens use `secret`).
   *
   * @default ["RS256", "ES256", "EdDSA"]
   */
  algorithms?: readonly JwksAlgorithm[];
  /**
   * The `iss` tokens must carry. Required: a JWKS may sign tokens for other apps too.
   *
   * @default env.CHRONICLE_JWT_ISSUER
   */
  issuer?: string | readonly string[];
  /** The `aud` tokens must carry (one of them). @default env.CHRONICLE_JWT_AUDIENCE */
  audience?: string | readonly string[];
  /** Leeway for `exp` and `nbf` against the provider's clock, in seconds. @default 60 */
  clockSkewSeconds?: number;
  /** How long a fetched key set is used before it is fetched again, in seconds. @default 600 */
  cacheMaxAgeSeconds?: number;
  /**
   * How the JWKS URL is fetched (a service binding's `fetch`, a test's stub).
   *
   * @default globalThis.fetch
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/**
 * How the node verifies tokens: an HS256 `secret` your backend signs with, a `jwks` of your
 * identity provider, or both (a token's `alg` picks the one that verifies it).
 */
export interface SyncNodeAuthOptions<E extends SyncNodeEnv = SyncNodeEnv> {
  /**
   * The HS256 key tokens are signed with, or a function reading it from the env (called on each
   * request that needs it). At least 32 bytes (RFC 7518 §3.2): a shorter string given here throws
   * at once (unless `devTokenRoute: true`); a shorter one from the env answers `internal` outside
   * dev mode (`CHRONICLE_DEV=1` or `devTokenRoute: true`).
   *
   * @default env.CHRONICLE_SECRET
   * @example
   * createSyncNode({ auth: { secret: (env) => env.TOKEN_KEY } });
   */
  secret?: string | ((env: E) => string | undefined);
  /**
   * Tokens from an identity provider, verified against its public keys.
   *
   * @default from env.CHRONICLE_JWKS_URL, CHRONICLE_JWT_ISSUER and CHRONICLE_JWT_AUDIENCE when the URL is set
   * @example
   * createSyncNode({
   *   auth: {
   *     jwks: {
   *       url: "https://your-tenant.us.auth0.com/.well-known/jwks.json",
   *       issuer: "https://your-tenant.us.auth0.com/",
   *       audience: "https://sync.example.com",
   *     },
   *     claims: (payload) => ({ sub: payload.sub!, streams: payload["https://example.com/streams"] as never }),
   *   },
   * });
   */
  jwks?: SyncNodeJwksOptions;
  /**
   * Reads the grants from a verified token's payload (both modes). The default reads `sub`,
   * `streams` and `exp`; with env.CHRONICLE_JWT_STREAMS_CLAIM set, the streams come from that
   * claim (a top-level name such as `https://example.com/streams`, else a dotted path such as
   * `app_metadata.streams`). A result without a subject or stream grants is `unauthorized`.
   *
   * @example
   * claims: (payload) => ({ sub: payload.sub!, streams: (payload.app_metadata as any)?.streams })
   */
  claims?: (payload: JWTPayload) => TokenGrants;
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
export interface SyncNodeOptions<E extends SyncNodeEnv = SyncNodeEnv>
  extends SyncNodeProcessOptions {
  /**
   * Limits the node enforces. A limit set here wins over its env var; one left out comes from its
   * env var (`MAX_EVENT_BYTES`, `MAX_EVENTS_PER_PUSH`, `MAX_FRAME_BYTES`,
   * `RATE_LIMIT_PER_SECOND`, `RATE_LIMIT_BURST`), else from the default. The StreamLog object
   * receives them with every call: it needs no configuration of its own.
   *
   * @default {} (env vars, else 65536 / 500 / 1048576 / 100 / 200)
   */
  limits?: Partial<SyncNodeLimits>;
  /** Token verification. @default { secret: env.CHRONICLE_SECRET } (and a JWKS from env vars) */
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
  /**
   * The app's deciders and projections (the same definitions the browser host gets): the node
   * keeps their states per stream at every `every`-th position, computed on first request, and
   * serves them at `GET /v1/streams/:stream/snapshots` so a new device starts from the latest
   * one plus the tail instead of replaying the whole log. A state is served only to a client
   * naming the same definition version. Call createSyncNode at the top of the Worker's module
   * (its default export), so that the StreamLog objects, which run there too, see them.
   *
   * @default none: the route answers every state as unavailable (`unknown`)
   * @example
   * export default createSyncNode({ snapshots: { deciders: [board], projections: [cardList], every: 1000 } });
   */
  snapshots?: SnapshotDefinitions;
  /**
   * The app's sign-in: `POST /v1/sign-in` calls it and answers a short-lived HS256 token for what
   * it grants, signed with the node's secret (`auth.secret` or `CHRONICLE_SECRET`). This is where
   * a real app plugs its auth; {@link anonymousSignIn} gives each visitor an anonymous identity.
   *
   * @default none: the route does not exist (404)
   * @example
   * export default createSyncNode({ signIn: anonymousSignIn({ streams: { "board:*": "write" } }) });
   */
  signIn?: SignIn<E>;
}

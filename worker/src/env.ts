// The node's bindings (what wrangler.toml, .dev.vars and `wrangler secret put` give it) and the
// limits in force, read from options first, then env vars, then the protocol's defaults.
import { defaultLimits, type ProtocolLimits } from "@chronicle/sync/protocol";
import type { StreamDirectory } from "./directory/StreamDirectory.ts";
import type { ProcessHost } from "./processes/ProcessHost.ts";
import type { StreamLog } from "./stream-log/StreamLog.ts";

/**
 * The bindings and vars the sync node reads. An app's own `Env` may hold more: pass it as the
 * type parameter of {@link createSyncNode}.
 */
export interface SyncNodeEnv {
  /** The StreamLog Durable Object namespace (wrangler.toml `[[durable_objects.bindings]]`). */
  STREAM_LOG: DurableObjectNamespace<StreamLog>;
  /**
   * The StreamDirectory Durable Object namespace: one object per space lists its streams and
   * serves the watch sockets (`GET /v1/streams`, `GET /v1/watch`). Without it those routes answer
   * `internal` and stream logs notify no directory; bound later, each log notifies its head when
   * it next wakes.
   */
  STREAM_DIRECTORY?: DurableObjectNamespace<StreamDirectory>;
  /**
   * The ProcessHost Durable Object namespace: one object per process type and per reaction the
   * node runs (createSyncNode's `processes` and `reactions`). Without it nothing is fed to them
   * and `/v1/processes` answers `internal`; bound later, each stream log feeds them when it next
   * wakes.
   */
  PROCESS_HOST?: DurableObjectNamespace<ProcessHost>;
  /**
   * HS256 key for tokens (`npx wrangler secret put CHRONICLE_SECRET`), at least 32 bytes. Needed
   * unless `auth.secret` or a JWKS is configured: without any key every authenticated route
   * answers `internal`.
   */
  CHRONICLE_SECRET?: string;
  /**
   * Exactly "1" is dev mode: `POST /v1/dev/token` exists (unless `devTokenRoute` says otherwise)
   * and a `CHRONICLE_SECRET` shorter than 32 bytes is accepted. Never in production.
   */
  CHRONICLE_DEV?: string;
  /** Your identity provider's JWKS URL: tokens it signs are accepted (`auth.jwks.url`). */
  CHRONICLE_JWKS_URL?: string;
  /** The `iss` provider tokens must carry (`auth.jwks.issuer`); required with a JWKS. */
  CHRONICLE_JWT_ISSUER?: string;
  /** The `aud` provider tokens must carry; several separated by commas (`auth.jwks.audience`). */
  CHRONICLE_JWT_AUDIENCE?: string;
  /**
   * The claim holding the stream grants when it is not `streams`: a top-level name
   * (`https://example.com/streams`) or a dotted path (`app_metadata.streams`).
   */
  CHRONICLE_JWT_STREAMS_CLAIM?: string;
  /** @default "65536" */
  MAX_EVENT_BYTES?: string;
  /** @default "500" */
  MAX_EVENTS_PER_PUSH?: string;
  /** @default "1048576" */
  MAX_FRAME_BYTES?: string;
  /** Requests (frames, HTTP calls, upgrades) per second one subject may make on one stream. @default "100" */
  RATE_LIMIT_PER_SECOND?: string;
  /** Requests one subject may make at once on one stream. @default "200" */
  RATE_LIMIT_BURST?: string;
}

/** The limits an app may set (docs/architecture.md, rule 7). Nothing over a limit is stored. */
export interface SyncNodeLimits {
  /** Largest event, as JSON, in bytes; env var `MAX_EVENT_BYTES`. @default 65536 */
  maxEventBytes: number;
  /** Most events in one push; env var `MAX_EVENTS_PER_PUSH`. @default 500 */
  maxEventsPerPush: number;
  /**
   * Largest WebSocket frame or HTTP body, in bytes; frames the node sends are paged to stay under
   * it. Env var `MAX_FRAME_BYTES`. @default 1048576
   */
  maxFrameBytes: number;
  /**
   * Requests per second one token subject may make on one stream, on average, across all its
   * sockets' frames, HTTP pushes and pulls and WebSocket upgrades; env var
   * `RATE_LIMIT_PER_SECOND`. @default 100
   */
  ratePerSecond: number;
  /** Requests one subject may make at once on one stream; env var `RATE_LIMIT_BURST`. @default 200 */
  rateBurst: number;
}

/** internal: the limits in force, the protocol's included (what the Durable Object is given). */
export interface NodeLimits extends ProtocolLimits {
  ratePerSecond: number;
  rateBurst: number;
}

const settings = [
  ["maxEventBytes", "MAX_EVENT_BYTES", defaultLimits.maxEventBytes],
  ["maxEventsPerPush", "MAX_EVENTS_PER_PUSH", defaultLimits.maxEventsPerPush],
  ["maxFrameBytes", "MAX_FRAME_BYTES", defaultLimits.maxFrameBytes],
  ["ratePerSecond", "RATE_LIMIT_PER_SECOND", 100],
  ["rateBurst", "RATE_LIMIT_BURST", 200],
] as const satisfies ReadonlyArray<readonly [keyof SyncNodeLimits, keyof SyncNodeEnv, number]>;

const isPositiveInt = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 1;

function fromVar(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!isPositiveInt(parsed)) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** internal: throws a precise Error when an option limit is not a positive integer. */
export function checkLimitOptions(limits: Partial<SyncNodeLimits>): void {
  for (const [key] of settings) {
    const value = limits[key];
    if (value !== undefined && !isPositiveInt(value)) {
      throw new Error(`limits.${key} must be a positive integer, got ${String(value)}`);
    }
  }
}

/**
 * internal: the limits in force: each from `options` when set there, else from its env var, else
 * the default. A malformed env var throws (the request then answers `internal`, logged).
 */
export function limitsFrom(env: SyncNodeEnv, options: Partial<SyncNodeLimits> = {}): NodeLimits {
  const limits: NodeLimits = { ...defaultLimits, ratePerSecond: 100, rateBurst: 200 };
  for (const [key, name, fallback] of settings) {
    limits[key] = options[key] ?? fromVar(env[name], fallback, name);
  }
  return limits;
}

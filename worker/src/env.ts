// internal: not exported. The node's bindings and the limits read from them.
import { defaultLimits, type ProtocolLimits } from "@chronicle/sync/protocol";
import type { EchoSocket } from "./bench/EchoSocket.ts";
import type { StreamLog } from "./stream-log/StreamLog.ts";

/** What `wrangler.toml`, `.dev.vars` and `wrangler secret put` give the node. */
export interface NodeEnv {
  STREAM_LOG: DurableObjectNamespace<StreamLog>;
  /** Only bound by the benchmark's config (bench/sync-node.wrangler.toml): a raw echo baseline. */
  ECHO?: DurableObjectNamespace<EchoSocket>;
  /** HS256 key for tokens. Required: without it every authenticated route answers `internal`. */
  CHRONICLE_SECRET?: string;
  /** Exactly "1" enables `POST /v1/dev/token`. Never set it in production. */
  CHRONICLE_DEV?: string;
  /** @default "65536" */
  MAX_EVENT_BYTES?: string;
  /** @default "500" */
  MAX_EVENTS_PER_PUSH?: string;
  /** @default "1048576" */
  MAX_FRAME_BYTES?: string;
  /** Frames per second a socket may send on average. @default "100" */
  RATE_LIMIT_PER_SECOND?: string;
  /** Frames a socket may send at once. @default "200" */
  RATE_LIMIT_BURST?: string;
}

export interface NodeLimits extends ProtocolLimits {
  ratePerSecond: number;
  rateBurst: number;
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** The limits in force, from env vars with the defaults of docs/architecture.md, rule 7. */
export function limitsFrom(env: NodeEnv): NodeLimits {
  return {
    ...defaultLimits,
    maxEventBytes: positiveInt(env.MAX_EVENT_BYTES, defaultLimits.maxEventBytes, "MAX_EVENT_BYTES"),
    maxEventsPerPush: positiveInt(
      env.MAX_EVENTS_PER_PUSH,
      defaultLimits.maxEventsPerPush,
      "MAX_EVENTS_PER_PUSH",
    ),
    maxFrameBytes: positiveInt(env.MAX_FRAME_BYTES, defaultLimits.maxFrameBytes, "MAX_FRAME_BYTES"),
    ratePerSecond: positiveInt(env.RATE_LIMIT_PER_SECOND, 100, "RATE_LIMIT_PER_SECOND"),
    rateBurst: positiveInt(env.RATE_LIMIT_BURST, 200, "RATE_LIMIT_BURST"),
  };
}

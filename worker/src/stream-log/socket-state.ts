// internal: not exported. Per-socket state, kept in the WebSocket attachment so it survives
// hibernation and eviction (an object woken by a message rebuilds nothing but this).
import { ChronicleError } from "@chronicle/core";
import type { StreamAccess } from "@chronicle/sync/protocol";
import type { NodeLimits } from "../env.ts";

export interface SocketState {
  /** Authenticated subject: stamped as meta.actor on everything this socket pushes. */
  sub: string;
  access: StreamAccess;
  stream: string;
  /** The token's expiry (seconds since epoch). */
  exp: number;
  /** Said hello: receives live `events` frames. */
  subscribed: boolean;
  /** Token bucket (no timers: refilled from the clock when a frame arrives). */
  tokens: number;
  refilledAt: number;
  /**
   * The limits of the Worker that accepted this socket (createSyncNode options, else env vars).
   * Absent on a socket accepted without them: the object's env-var limits apply.
   */
  limits?: NodeLimits;
}

export function readState(ws: WebSocket): SocketState {
  const state = ws.deserializeAttachment() as SocketState | null;
  if (!state) throw new ChronicleError("internal", "socket has no state");
  return state;
}

/**
 * Takes one token for a frame, refilling at `ratePerSecond` up to `burst`; `rate-limited`
 * when the bucket is empty (the frame is then not processed at all).
 */
export function takeToken(
  state: SocketState,
  now: number,
  ratePerSecond: number,
  burst: number,
): void {
  const elapsed = Math.max(0, now - state.refilledAt);
  state.tokens = Math.min(burst, state.tokens + (elapsed * ratePerSecond) / 1000);
  state.refilledAt = now;
  if (state.tokens < 1) {
    throw new ChronicleError(
      "rate-limited",
      `more than ${ratePerSecond} frames per second (burst ${burst}) on this connection`,
      { details: { ratePerSecond, burst } },
    );
  }
  state.tokens -= 1;
}

// internal: not exported. Per-socket state, kept in the WebSocket attachment so it survives
// hibernation and eviction (an object woken by a message or an alarm rebuilds nothing but this).
import { ChronicleError } from "@chronicle/core";
import type { StreamAccess } from "@chronicle/sync/protocol";
import type { NodeLimits } from "../env.ts";

export interface SocketState {
  /** Authenticated subject: stamped as meta.actor on everything this socket pushes. */
  sub: string;
  access: StreamAccess;
  stream: string;
  /**
   * When the token stops being accepted (seconds since epoch): the socket is closed then, by the
   * expiry alarm, or at the latest before anything more is delivered to it or read from it.
   */
  exp: number;
  /** Said hello: receives live `events` frames. */
  subscribed: boolean;
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

export function isExpired(state: SocketState, nowMs: number): boolean {
  return nowMs / 1000 >= state.exp;
}

// internal: a socket does not outlive its token (docs/architecture.md, Auth), for every Durable
// Object that holds sockets (StreamLog, StreamDirectory). Each socket's attachment keeps `exp`,
// the instant (seconds) its token stops being accepted; an alarm at the earliest one closes it.
import { ChronicleError } from "@chronicle/core";
import { errorFrameText, send } from "./frames.ts";

/** When an alarm for an expiry at `exp` (seconds) fires: then, or in a week for far ones. */
export function alarmTime(exp: number): number {
  return Math.min(exp * 1000, Date.now() + 7 * 24 * 3600 * 1000);
}

/** Ends a socket whose token has expired: an `unauthorized` error frame, then close code 4401. */
export function expire(ws: WebSocket, req?: string): void {
  send(ws, errorFrameText(new ChronicleError("unauthorized", "token expired"), req));
  try {
    ws.close(4401, "token expired");
  } catch {
    // already closing
  }
}

/**
 * Closes the sockets whose token has expired by `nowMs` and returns the earliest expiry
 * (seconds) among the others, for the next alarm (`undefined`: none left).
 */
export function closeExpired(sockets: readonly WebSocket[], nowMs: number): number | undefined {
  let next: number | undefined;
  for (const ws of sockets) {
    const state = ws.deserializeAttachment() as { exp: number } | null;
    if (!state) continue;
    if (nowMs / 1000 >= state.exp) expire(ws);
    else next = Math.min(next ?? Number.POSITIVE_INFINITY, state.exp);
  }
  return next;
}

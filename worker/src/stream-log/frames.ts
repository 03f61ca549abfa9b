// internal: not exported. Builds node -> client frames (and the HTTP pull body) from stored JSON
// without re-encoding every event. A page is sized so the whole frame, envelope included, stays
// under the frame limit; a page holds at least one event, so a single event larger than the
// limit (possible only when the limit is set below the event size) is still delivered alone.

import { ChronicleError } from "@chronicle/core";
import { byteLength, type ErrorFrame, encodeFrame } from "@chronicle/sync/protocol";
import type { StoredEventText } from "./log-table.ts";

export function eventsFrameText(
  page: readonly StoredEventText[],
  head: number,
  extra: { req?: string; more?: boolean } = {},
): string {
  const tail =
    (extra.req === undefined ? "" : `,"req":${JSON.stringify(extra.req)}`) +
    (extra.more === undefined ? "" : `,"more":${extra.more}`);
  return `{"t":"events","events":[${page.map((event) => event.json).join(",")}],"head":${head}${tail}}`;
}

/** The HTTP pull body `{ events, head, more }`. */
export function pullBodyText(
  page: readonly StoredEventText[],
  head: number,
  more: boolean,
): string {
  return `{"events":[${page.map((event) => event.json).join(",")}],"head":${head},"more":${more}}`;
}

/**
 * Bytes left for events in an `events` frame (or pull body) under `maxFrameBytes`: the envelope
 * is measured with no events and `more: false`, the longer of the two flags.
 */
export function eventsBudget(maxFrameBytes: number, head: number, req?: string): number {
  const envelope = byteLength(eventsFrameText([], head, { more: false, ...(req ? { req } : {}) }));
  return Math.max(1, maxFrameBytes - envelope);
}

/** An `error` frame; its details (but `req`, which has its own field) go along. */
export function errorFrameText(error: ChronicleError, req?: string): string {
  const frame: ErrorFrame = { t: "error", code: error.code, message: error.message };
  if (req !== undefined) frame.req = req;
  const { req: _req, ...details } = error.details;
  if (Object.keys(details).length > 0) frame.details = details;
  return encodeFrame(frame);
}

/**
 * Refuses a push whose answer would not fit in one frame (possible only with long ids and a long
 * subject near the frame limit): it is checked before anything is written, with every position
 * and time at its widest.
 */
export function checkAckFits(
  results: ReadonlyArray<{ id: string; actor: string }>,
  req: string | undefined,
  maxFrameBytes: number,
): void {
  // Cheap bound first: an id is at most 64 characters and a subject 256, each 6 bytes escaped.
  if (results.length * (64 * 6 + 256 * 6 + 80) + 200 <= maxFrameBytes) return;
  const widest = results.map(({ id, actor }) => ({
    id,
    position: Number.MAX_SAFE_INTEGER,
    recordedAt: Number.MAX_SAFE_INTEGER,
    actor,
  }));
  const size = byteLength(encodeFrame({ t: "ack", req: req ?? "r".repeat(64), results: widest }));
  if (size > maxFrameBytes) {
    throw new ChronicleError(
      "too-large",
      `the answer to this push would exceed ${maxFrameBytes} bytes; push fewer events at once`,
      { details: { limit: maxFrameBytes } },
    );
  }
}

const requestIdPrefix = /"req"\s*:\s*"([^"\\]{1,64})"/;

/**
 * The request id of a frame refused before it is parsed (rate-limited, too large), read from its
 * start when it is there, so the client can still fail that request.
 */
export function guessRequestId(message: string | ArrayBuffer): string | undefined {
  return typeof message === "string" ? requestIdPrefix.exec(message.slice(0, 256))?.[1] : undefined;
}

/**
 * Sends to a socket that may have closed meanwhile (the client left while its frame was being
 * handled): the frame is dropped. What it carried is not lost: the write is committed, and a
 * reconnecting client re-pushes (idempotent) or catches up with hello.
 */
export function send(ws: WebSocket, text: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  try {
    ws.send(text);
  } catch {
    // Closed between the check and the send.
  }
}

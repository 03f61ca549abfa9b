// internal: not exported. Builds node -> client frames from stored JSON without re-encoding
// every event; each frame stays under the frame limit (a page holds at least one event, and one
// event is far below it).

import type { ChronicleError } from "@chronicle/core";
import type { ErrorFrame } from "@chronicle/sync/protocol";
import { encodeFrame } from "@chronicle/sync/protocol";
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

export function errorFrameText(error: ChronicleError, req?: string): string {
  const frame: ErrorFrame = { t: "error", code: error.code, message: error.message };
  if (req !== undefined) frame.req = req;
  return encodeFrame(frame);
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

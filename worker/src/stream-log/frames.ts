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

// Many streams (docs/architecture.md, "Many streams"): the node's stream directory, shared by the
// client and the node. Listing (`GET /v1/streams?prefix=&after=&limit=`) and the watch socket
// (`GET /v1/watch?prefix=`, node -> client `heads` frames) are defined here once, with the same
// coded errors as the other bodies and frames:
// 1. A prefix names a space: it is the start of a stream id and holds a ':'; the space is the
//    text before its first ':' (`board:` and `board:7-` are in space `board`). Anything else is
//    `validation` with `details.path` `prefix`.
// 2. `after` is a cursor: the last stream id of the previous page (`next`), never a position.
// 3. A `heads` frame carries the node heads of streams under the watched prefix that the token
//    may read; the first ones after connecting hold every such stream (`more: true` until the
//    last of them), later ones only the streams that moved.
import { ChronicleError, streamIdPattern } from "@chronicle/core";
import { z } from "zod";
import type { StreamAccess } from "./access.ts";
import { defaultLimits, type ProtocolLimits } from "./limits.ts";
import { validationError } from "./parse.ts";

const cursor = z.number().int().min(0);

/** A stream prefix that names a space (rule 1). */
const prefixSchema = z
  .string()
  .max(128)
  .regex(streamIdPattern, "must start a stream id ([A-Za-z0-9][A-Za-z0-9:_.-]*)")
  .refine((value) => value.includes(":"), {
    message: "must hold a ':' (streams are listed by space: the text before the first ':')",
  });

/** One stream as the directory knows it. */
export const streamHead = z.object({
  /** The stream id. */
  stream: z.string().regex(streamIdPattern),
  /** The node's head of the stream: its last position. */
  head: cursor,
  /** The stream log's epoch (a new one means the log was recreated). */
  epoch: z.string().min(1).max(64).optional(),
});

/** Query of `GET /v1/streams`; values arrive as strings. */
export const streamsQuery = z.object({
  /** Streams whose id starts with this (it holds a ':'; rule 1). */
  prefix: prefixSchema,
  /** The page starts after this stream id: the `next` of the previous page. */
  after: z.string().regex(streamIdPattern).max(128).optional(),
  /** At most this many streams (1 to 1000). @default 100 */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Answer of `GET /v1/streams`: one page, in stream id order. */
export const streamsResponse = z.object({
  /** The streams of the page the token may read, in id order. */
  streams: z.array(streamHead),
  /** More may follow: ask again with `after` set to this. Absent on the last page. */
  next: z.string().optional(),
});

/** Query of `GET /v1/watch` (a WebSocket upgrade); values arrive as strings. */
export const watchQuery = z.object({
  /** Watch the streams whose id starts with this (it holds a ':'; rule 1). */
  prefix: prefixSchema,
});

/** Node -> client on a watch socket: heads of readable streams under the prefix (rule 3). */
export const headsFrame = z.object({
  /** The frame's kind. */
  t: z.literal("heads"),
  /** Streams and their node heads. */
  streams: z.array(streamHead),
  /** More of the current heads follow (only in the frames sent on connecting). */
  more: z.boolean().optional(),
});

/** A coded failure on a watch socket (e.g. `unauthorized` before close code 4401). */
export const watchErrorFrame = z.object({
  /** The frame's kind. */
  t: z.literal("error"),
  /** A ChronicleError code. */
  code: z.string(),
  /** For people, not for code. */
  message: z.string(),
  /** Machine-readable facts, as in an HTTP error body. */
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Any frame the node sends on a watch socket, by `t`. */
export const watchFrame = z.discriminatedUnion("t", [headsFrame, watchErrorFrame]);

/** See {@link streamHead}. */
export type StreamHead = z.infer<typeof streamHead>;
/** See {@link streamsResponse}. */
export type StreamsResponse = z.infer<typeof streamsResponse>;
/** See {@link headsFrame}. */
export type HeadsFrame = z.infer<typeof headsFrame>;
/** Any frame of a watch socket (see {@link watchFrame}). */
export type WatchFrame = z.infer<typeof watchFrame>;

/** Default and largest page of `GET /v1/streams`. */
export const streamsPage = {
  /** Streams in a page when the query gives no `limit`. */
  defaultLimit: 100,
  /** The largest `limit` a query may give. */
  maxLimit: 1000,
} as const;

/**
 * The space of a stream id or prefix: the text before its first ':' (`undefined` when it has
 * none: such a stream is in no directory).
 *
 * @example
 * spaceOf("board:7"); // "board"
 */
export function spaceOf(streamOrPrefix: string): string | undefined {
  const colon = streamOrPrefix.indexOf(":");
  return colon > 0 ? streamOrPrefix.slice(0, colon) : undefined;
}

/**
 * Parses the query of `GET /v1/streams` (`validation` naming the parameter).
 *
 * @example
 * parseStreamsQuery({ prefix: "board:", limit: "50" }); // { prefix: "board:", limit: 50 }
 */
export function parseStreamsQuery(query: Record<string, string | undefined>): {
  /** Streams whose id starts with this. */
  prefix: string;
  /** The cursor: list streams after this id. */
  after?: string;
  /** The page size. */
  limit: number;
} {
  const parsed = streamsQuery.safeParse(query);
  if (!parsed.success) throw validationError(parsed.error, "query");
  const { prefix, after, limit = streamsPage.defaultLimit } = parsed.data;
  return after === undefined ? { prefix, limit } : { prefix, after, limit };
}

/**
 * Parses the query of `GET /v1/watch` (`validation` naming the parameter).
 *
 * @example
 * parseWatchQuery({ prefix: "board:" }); // { prefix: "board:" }
 */
export function parseWatchQuery(query: Record<string, string | undefined>): {
  /** Watch the streams whose id starts with this. */
  prefix: string;
} {
  const parsed = watchQuery.safeParse(query);
  if (!parsed.success) throw validationError(parsed.error, "query");
  return parsed.data;
}

/**
 * Parses a frame of a watch socket (the client trusts nothing): `protocol` for anything that is
 * not a `heads` or `error` frame of the schema.
 *
 * @example
 * const frame = parseWatchFrame(message.data);
 */
export function parseWatchFrame(
  text: unknown,
  limits: Pick<ProtocolLimits, "maxFrameBytes"> = defaultLimits,
): WatchFrame {
  if (typeof text !== "string") throw new ChronicleError("protocol", "frame must be JSON text");
  if (text.length > limits.maxFrameBytes * 4) {
    throw new ChronicleError("protocol", `watch frame exceeds ${limits.maxFrameBytes * 4} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ChronicleError("protocol", "watch frame is not valid JSON");
  }
  const parsed = watchFrame.safeParse(value);
  if (!parsed.success) {
    throw new ChronicleError("protocol", validationError(parsed.error, "watch frame").message);
  }
  return parsed.data;
}

/**
 * The grant patterns of a token that may match a stream under `prefix` (an exact id starting
 * with it, or a wildcard whose prefix and `prefix` overlap). Empty: the token can read nothing
 * there. A wildcard that covers the whole prefix alone makes the answer `"all"`.
 *
 * @example
 * grantsUnder({ "board:*": "read", "doc:1": "write" }, "board:"); // "all"
 */
export function grantsUnder(
  scopes: Record<string, StreamAccess>,
  prefix: string,
): "all" | string[] {
  const patterns: string[] = [];
  for (const pattern of Object.keys(scopes)) {
    if (pattern.endsWith("*")) {
      const start = pattern.slice(0, -1);
      if (prefix.startsWith(start)) return "all";
      if (start.startsWith(prefix)) patterns.push(pattern);
    } else if (pattern.startsWith(prefix)) {
      patterns.push(pattern);
    }
  }
  return patterns;
}

/**
 * Whether a stream passes {@link grantsUnder}'s answer (any grant, read or write, may read).
 *
 * @example
 * readableUnder(grantsUnder(claims.streams, "board:"), "board:7");
 */
export function readableUnder(grants: "all" | readonly string[], stream: string): boolean {
  if (grants === "all") return true;
  return grants.some((pattern) =>
    pattern.endsWith("*") ? stream.startsWith(pattern.slice(0, -1)) : pattern === stream,
  );
}

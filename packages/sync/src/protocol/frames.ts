// Sync protocol v1 (docs/architecture.md), defined once as zod schemas: the node and client both
// parse every frame and body with them, and nothing is parsed without them.
import { streamIdPattern } from "@chronicle/core";
import { z } from "zod";

const position = z.number().int().min(1);
const cursor = z.number().int().min(0);
const requestId = z.string().min(1).max(64);

/** An event's `meta` on the wire (core's EventMeta). */
export const eventMetaSchema = z.object({
  /** Who wrote it; the node overwrites it with the token's subject. */
  actor: z.string().max(256),
  /** Which installation wrote it. */
  device: z.string().max(256),
  /** The writer's clock (ms), informative. */
  occurredAt: z.number().finite(),
  /** The workflow the event belongs to. */
  correlationId: z.string().min(1).max(128),
  // exactOptional: absent, never `undefined`, like core's types under exactOptionalPropertyTypes.
  /** The event or command that caused it. */
  causationId: z.string().min(1).max(128).exactOptional(),
  /** Ids of the events it compensates (undo). */
  undoOf: z.array(z.string().min(1).max(64)).max(1000).exactOptional(),
  /** Ids of the events it re-applies (redo). */
  redoOf: z.array(z.string().min(1).max(64)).max(1000).exactOptional(),
});

// Event data must be JSON (and present: null for none), but its static type is `unknown`, like
// core's envelope, so core's events and wire events are assignable both ways.
const eventData: z.ZodType<unknown> = z.json();

/** The event envelope on the wire. `position`/`recordedAt` are owned by the node. */
export const recordedEventSchema = z.object({
  /** The writer's UUIDv7: the idempotency key. */
  id: z.string().min(1).max(64),
  /** The stream; it must be the stream the frame or URL is for. */
  stream: z.string().regex(streamIdPattern),
  /** The event type, e.g. `"card.moved"`. */
  type: z.string().min(1).max(128),
  /** Schema version of `data`. */
  version: z.number().int().min(1),
  /** The payload: exact JSON, `null` for none. */
  data: eventData,
  /** Who wrote it and why. */
  meta: eventMetaSchema,
  /** Set by the node: ignored in a push. */
  position: position.exactOptional(),
  /** Set by the node: ignored in a push. */
  recordedAt: z.number().finite().exactOptional(),
});

/** An event the node has ordered: position and recordedAt present. */
export const confirmedEventSchema = recordedEventSchema.extend({
  /** 1-based, gapless position in the stream. */
  position,
  /** The node's clock when it ordered the event (ms). */
  recordedAt: z.number().finite(),
});

// Client -> node ------------------------------------------------------------------------------

/**
 * Subscribes the socket: the node answers `welcome`, then the events after `after`, then live
 * ones.
 */
export const helloFrame = z.object({
  /** The frame's kind. */
  t: z.literal("hello"),
  /** The protocol version the client speaks ({@link PROTOCOL_VERSION}). */
  protocol: z.number().int(),
  /** The client's confirmed head: the node sends the events after it. */
  after: cursor,
  /** The epoch the client last knew; another one gets the whole log from position 1. */
  epoch: z.string().min(1).max(64).optional(),
});

/** Stores events (answered by `ack`, `conflict` or `error` with the same `req`). */
export const pushFrame = z.object({
  /** The frame's kind. */
  t: z.literal("push"),
  /** The client's request id (1 to 64 characters), repeated in the answer. */
  req: requestId,
  /** The events to store, in order, all of the socket's stream. */
  events: z.array(recordedEventSchema).min(1),
  /** Strict push: accepted only if the stream head equals this. */
  expected: cursor.optional(),
});

/** Asks for one page of events (answered by an `events` frame with the same `req`). */
export const pullFrame = z.object({
  /** The frame's kind. */
  t: z.literal("pull"),
  /** The client's request id (1 to 64 characters), repeated in the answer. */
  req: requestId,
  /** The page starts after this position. */
  after: cursor,
  /** At most this many events (1 to 1000). @default 500 */
  limit: z.number().int().min(1).max(1000).optional(),
});

/** Any frame a client sends, by `t`. */
export const clientFrame = z.discriminatedUnion("t", [helloFrame, pushFrame, pullFrame]);

// Node -> client ------------------------------------------------------------------------------

/**
 * Where a pushed event landed, and the node-owned fields it was stored with: `actor` is the
 * `meta.actor` the node stamped (the token's subject), so the pusher's copy matches the log.
 */
export const ackResult = z.object({
  /** The pushed event's id. */
  id: z.string(),
  /** Where it was stored. */
  position,
  /** The node's clock when it was ordered (ms). */
  recordedAt: z.number(),
  /** The `meta.actor` the node stored. */
  actor: z.string().optional(),
});

/** The answer to `hello`: the stream's epoch and head. */
export const welcomeFrame = z.object({
  /** The frame's kind. */
  t: z.literal("welcome"),
  /** The id of the stream's log; a new one means the log was recreated. */
  epoch: z.string(),
  /** The stream's head. */
  head: cursor,
});
/** The answer to a push: where each event landed. */
export const ackFrame = z.object({
  /** The frame's kind. */
  t: z.literal("ack"),
  /** The push's request id. */
  req: requestId,
  /** One result per pushed event, in push order. */
  results: z.array(ackResult),
});
/** Confirmed events in position order: catch-up, live, or a pull's page (`req` set). */
export const eventsFrame = z.object({
  /** The frame's kind. */
  t: z.literal("events"),
  /** The events, in position order. */
  events: z.array(confirmedEventSchema),
  /** The stream's head when the frame was sent. */
  head: cursor,
  /** The pull's request id, when the frame answers a pull. */
  req: requestId.optional(),
  /** More events follow (catch-up and pulls are paged). */
  more: z.boolean().optional(),
});
/** The answer to a strict push whose stream moved: nothing was stored. */
export const conflictFrame = z.object({
  /** The frame's kind. */
  t: z.literal("conflict"),
  /** The push's request id. */
  req: requestId,
  /** The stream's head now. */
  head: cursor,
});
/** A coded failure; the socket stays open. */
export const errorFrame = z.object({
  /** The frame's kind. */
  t: z.literal("error"),
  /** The request that failed, when it could be read. */
  req: requestId.optional(),
  /** A ChronicleError code. */
  code: z.string(),
  /** For people, not for code. */
  message: z.string(),
  /**
   * Machine-readable facts, as in an HTTP error body: `path` (validation), `retryAfter` in
   * seconds (rate-limited), `id` and `position` (id-conflict), `limit` (too-large).
   */
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Any frame the node sends, by `t`. */
export const serverFrame = z.discriminatedUnion("t", [
  welcomeFrame,
  ackFrame,
  eventsFrame,
  conflictFrame,
  errorFrame,
]);

// HTTP ----------------------------------------------------------------------------------------

/** Body of `POST /v1/streams/:stream/events`. */
export const pushBody = z.object({
  /** The events to store, in order, all of the URL's stream. */
  events: z.array(recordedEventSchema).min(1),
  /**
   * Strict push: accepted only if the stream head equals this (`conflict`, HTTP 409,
   * otherwise).
   */
  expected: cursor.optional(),
});
/** Answer of `POST /v1/streams/:stream/events`. */
export const pushResponse = z.object({
  /** One result per pushed event, in push order. */
  results: z.array(ackResult),
});

/** Query of `GET /v1/streams/:stream/events`; values arrive as strings. */
export const pullQuery = z.object({
  /** The page starts after this position. @default 0 */
  after: z.coerce.number().int().min(0).default(0),
  /** At most this many events (1 to 1000). @default 500 */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
/** Answer of `GET /v1/streams/:stream/events`: one page. */
export const pullResponse = z.object({
  /** The events, in position order. */
  events: z.array(confirmedEventSchema),
  /** The stream's head. */
  head: cursor,
  /** More events follow: ask again after the last one. */
  more: z.boolean(),
});

/** Body of every HTTP error answer (more fields, such as `details`, may follow). */
export const errorBody = z.looseObject({
  /** A ChronicleError code. */
  code: z.string(),
  /** For people, not for code. */
  message: z.string(),
});

/** `POST /v1/dev/token` (only when CHRONICLE_DEV=1). */
export const devTokenBody = z.object({
  /** The token's subject (user id). */
  sub: z.string().min(1).max(256),
  /** Access by stream id, or by prefix ending in `*`. */
  streams: z.record(z.string().min(1).max(129), z.enum(["read", "write"])),
  /** How long the token lives, at most 31 days. @default 43200 (12 hours) */
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(31 * 24 * 3600)
    .optional(),
});

/** Claims of the HS256 tokens the node accepts. */
export const tokenClaims = z.object({
  /** The subject: stamped as `meta.actor` on the events it pushes. */
  sub: z.string().min(1).max(256),
  /** Access by stream id, or by prefix ending in `*`. */
  streams: z.record(z.string().min(1).max(129), z.enum(["read", "write"])),
  /** Expiry, in seconds since the epoch. */
  exp: z.number(),
  /** Issued at, in seconds since the epoch. */
  iat: z.number().optional(),
});

/** An event on the wire (see {@link recordedEventSchema}). */
export type WireEvent = z.infer<typeof recordedEventSchema>;
/** An ordered event on the wire (see {@link confirmedEventSchema}). */
export type WireConfirmedEvent = z.infer<typeof confirmedEventSchema>;
/** See {@link helloFrame}. */
export type HelloFrame = z.infer<typeof helloFrame>;
/** See {@link pushFrame}. */
export type PushFrame = z.infer<typeof pushFrame>;
/** See {@link pullFrame}. */
export type PullFrame = z.infer<typeof pullFrame>;
/** Any frame a client sends (see {@link clientFrame}). */
export type ClientFrame = z.infer<typeof clientFrame>;
/** See {@link welcomeFrame}. */
export type WelcomeFrame = z.infer<typeof welcomeFrame>;
/** See {@link ackFrame}. */
export type AckFrame = z.infer<typeof ackFrame>;
/** See {@link eventsFrame}. */
export type EventsFrame = z.infer<typeof eventsFrame>;
/** See {@link conflictFrame}. */
export type ConflictFrame = z.infer<typeof conflictFrame>;
/** See {@link errorFrame}. */
export type ErrorFrame = z.infer<typeof errorFrame>;
/** Any frame the node sends (see {@link serverFrame}). */
export type ServerFrame = z.infer<typeof serverFrame>;
/** See {@link pushBody}. */
export type PushBody = z.infer<typeof pushBody>;
/** See {@link pushResponse}. */
export type PushResponse = z.infer<typeof pushResponse>;
/** See {@link pullResponse}. */
export type PullResponse = z.infer<typeof pullResponse>;
/** See {@link tokenClaims}. */
export type TokenClaims = z.infer<typeof tokenClaims>;
/** See {@link ackResult}. */
export type AckResult = z.infer<typeof ackResult>;

// Sync protocol v1 (docs/architecture.md), defined once as zod schemas: the node and client both
// parse every frame and body with them, and nothing is parsed without them.
import { streamIdPattern } from "@chronicle/core";
import { z } from "zod";

const position = z.number().int().min(1);
const cursor = z.number().int().min(0);
const requestId = z.string().min(1).max(64);

export const eventMetaSchema = z.object({
  actor: z.string().max(256),
  device: z.string().max(256),
  occurredAt: z.number().finite(),
  correlationId: z.string().min(1).max(128),
  // exactOptional: absent, never `undefined`, like core's types under exactOptionalPropertyTypes.
  causationId: z.string().min(1).max(128).exactOptional(),
  undoOf: z.array(z.string().min(1).max(64)).max(1000).exactOptional(),
  redoOf: z.array(z.string().min(1).max(64)).max(1000).exactOptional(),
});

// Event data must be JSON (and present: null for none), but its static type is `unknown`, like
// core's envelope, so core's events and wire events are assignable both ways.
const eventData: z.ZodType<unknown> = z.json();

/** The event envelope on the wire. `position`/`recordedAt` are owned by the node. */
export const recordedEventSchema = z.object({
  id: z.string().min(1).max(64),
  stream: z.string().regex(streamIdPattern),
  type: z.string().min(1).max(128),
  version: z.number().int().min(1),
  data: eventData,
  meta: eventMetaSchema,
  position: position.exactOptional(),
  recordedAt: z.number().finite().exactOptional(),
});

/** An event the node has ordered: position and recordedAt present. */
export const confirmedEventSchema = recordedEventSchema.extend({
  position,
  recordedAt: z.number().finite(),
});

// Client -> node ------------------------------------------------------------------------------

export const helloFrame = z.object({
  t: z.literal("hello"),
  protocol: z.number().int(),
  after: cursor,
  epoch: z.string().min(1).max(64).optional(),
});

export const pushFrame = z.object({
  t: z.literal("push"),
  req: requestId,
  events: z.array(recordedEventSchema).min(1),
  /** Strict push: accepted only if the stream head equals this. */
  expected: cursor.optional(),
});

export const pullFrame = z.object({
  t: z.literal("pull"),
  req: requestId,
  after: cursor,
  limit: z.number().int().min(1).max(1000).optional(),
});

export const clientFrame = z.discriminatedUnion("t", [helloFrame, pushFrame, pullFrame]);

// Node -> client ------------------------------------------------------------------------------

/**
 * Where a pushed event landed, and the node-owned fields it was stored with: `actor` is the
 * `meta.actor` the node stamped (the token's subject), so the pusher's copy matches the log.
 */
export const ackResult = z.object({
  id: z.string(),
  position,
  recordedAt: z.number(),
  actor: z.string().optional(),
});

export const welcomeFrame = z.object({ t: z.literal("welcome"), epoch: z.string(), head: cursor });
export const ackFrame = z.object({
  t: z.literal("ack"),
  req: requestId,
  results: z.array(ackResult),
});
export const eventsFrame = z.object({
  t: z.literal("events"),
  events: z.array(confirmedEventSchema),
  head: cursor,
  req: requestId.optional(),
  more: z.boolean().optional(),
});
export const conflictFrame = z.object({ t: z.literal("conflict"), req: requestId, head: cursor });
export const errorFrame = z.object({
  t: z.literal("error"),
  req: requestId.optional(),
  code: z.string(),
  message: z.string(),
  /**
   * Machine-readable facts, as in an HTTP error body: `path` (validation), `retryAfter` in
   * seconds (rate-limited), `id` and `position` (id-conflict), `limit` (too-large).
   */
  details: z.record(z.string(), z.unknown()).optional(),
});

export const serverFrame = z.discriminatedUnion("t", [
  welcomeFrame,
  ackFrame,
  eventsFrame,
  conflictFrame,
  errorFrame,
]);

// HTTP ----------------------------------------------------------------------------------------

export const pushBody = z.object({
  events: z.array(recordedEventSchema).min(1),
  expected: cursor.optional(),
});
export const pushResponse = z.object({ results: z.array(ackResult) });

/** Query of `GET /v1/streams/:stream/events`; values arrive as strings. */
export const pullQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
export const pullResponse = z.object({
  events: z.array(confirmedEventSchema),
  head: cursor,
  more: z.boolean(),
});

export const errorBody = z.looseObject({ code: z.string(), message: z.string() });

/** `POST /v1/dev/token` (only when CHRONICLE_DEV=1). */
export const devTokenBody = z.object({
  sub: z.string().min(1).max(256),
  streams: z.record(z.string().min(1).max(129), z.enum(["read", "write"])),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(31 * 24 * 3600)
    .optional(),
});

/** Claims of the HS256 tokens the node accepts. */
export const tokenClaims = z.object({
  sub: z.string().min(1).max(256),
  streams: z.record(z.string().min(1).max(129), z.enum(["read", "write"])),
  exp: z.number(),
  iat: z.number().optional(),
});

export type WireEvent = z.infer<typeof recordedEventSchema>;
export type WireConfirmedEvent = z.infer<typeof confirmedEventSchema>;
export type HelloFrame = z.infer<typeof helloFrame>;
export type PushFrame = z.infer<typeof pushFrame>;
export type PullFrame = z.infer<typeof pullFrame>;
export type ClientFrame = z.infer<typeof clientFrame>;
export type WelcomeFrame = z.infer<typeof welcomeFrame>;
export type AckFrame = z.infer<typeof ackFrame>;
export type EventsFrame = z.infer<typeof eventsFrame>;
export type ConflictFrame = z.infer<typeof conflictFrame>;
export type ErrorFrame = z.infer<typeof errorFrame>;
export type ServerFrame = z.infer<typeof serverFrame>;
export type PushBody = z.infer<typeof pushBody>;
export type PushResponse = z.infer<typeof pushResponse>;
export type PullResponse = z.infer<typeof pullResponse>;
export type TokenClaims = z.infer<typeof tokenClaims>;
export type AckResult = z.infer<typeof ackResult>;

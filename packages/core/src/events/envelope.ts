import { ChronicleError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";

/** Who wrote an event and why. The sync node overwrites `actor` with the authenticated subject. */
export interface EventMeta {
  /** Who: a user id. */
  actor: string;
  /** Which installation wrote it. */
  device: string;
  /** Writer's clock, ms since epoch. Informative only: temporal queries use `recordedAt`. */
  occurredAt: number;
  /** The workflow this event belongs to. */
  correlationId: string;
  /** The event or command that caused this one. */
  causationId?: string;
  /** Ids of the events this one compensates (undo). */
  undoOf?: string[];
  /** Ids of the events this one re-applies (redo). */
  redoOf?: string[];
}

/** An event as stored and synced (docs/architecture.md, "The event envelope"). */
export interface RecordedEvent<Data = unknown, Type extends string = string> {
  /** UUIDv7 chosen by the writer: the idempotency key. */
  id: string;
  /** The stream it belongs to (see {@link isStreamId}). */
  stream: string;
  /** The event type, e.g. `"card.moved"`. */
  type: Type;
  /** Schema version of `data`, an integer >= 1. */
  version: number;
  /** The payload, as written (`version`); reads upcast it to the current version. */
  data: Data;
  /** Who wrote it and why. */
  meta: EventMeta;
  /** 1-based, gapless; assigned by the authority (sync node or store). Absent while pending. */
  position?: number;
  /** Authority clock when ordered (ms); the clock temporal queries use. */
  recordedAt?: number;
}

/** A recorded event that has been ordered: it has a position and a recordedAt. */
export type ConfirmedEvent<Data = unknown, Type extends string = string> = RecordedEvent<
  Data,
  Type
> & {
  /** 1-based, gapless position in its stream. */
  position: number;
  /** Authority clock when ordered (ms). */
  recordedAt: number;
};

/** Where an event came from: passed to whatever creates new events. */
export interface EventContext {
  /** `meta.actor`. @default "anonymous" */
  actor?: string;
  /** `meta.device`. @default "unknown" */
  device?: string;
  /** `meta.correlationId`. @default the event's own id (it starts a workflow) */
  correlationId?: string;
  /** `meta.causationId`: the event or command that caused it. */
  causationId?: string;
  /** Clock for `occurredAt` and the id's timestamp. @default Date.now */
  now?: () => number;
}

/**
 * What a stream id looks like: 1-128 characters of `A-Z a-z 0-9 : _ . -`, not starting with a
 * symbol.
 */
export const streamIdPattern = /^[A-Za-z0-9][A-Za-z0-9:_.-]{0,127}$/;

/**
 * True for a valid stream id: `/^[A-Za-z0-9][A-Za-z0-9:_.-]{0,127}$/` (docs/architecture.md).
 *
 * @example
 * isStreamId("board:1"); // true
 * isStreamId("board 1"); // false
 */
export function isStreamId(value: unknown): value is string {
  return typeof value === "string" && streamIdPattern.test(value);
}

/**
 * Throws `validation` unless `stream` is a valid stream id.
 *
 * @example
 * assertStreamId(params.stream); // params.stream is a string from here on
 */
export function assertStreamId(stream: unknown): asserts stream is string {
  if (!isStreamId(stream)) {
    throw new ChronicleError(
      "validation",
      `invalid stream id ${JSON.stringify(stream)}: expected ${streamIdPattern}`,
      { details: { path: "stream" } },
    );
  }
}

/**
 * Wraps event data in a full envelope with a fresh UUIDv7 id. Correlation and causation come
 * from `context`; without a correlation id the event starts a new workflow (its own id).
 *
 * @example
 * const event = createEnvelope("board:1", { type: "card.added", version: 1, data }, { actor: "alice", device: "d1" });
 */
export function createEnvelope<Data, Type extends string>(
  stream: string,
  event: { type: Type; version: number; data: Data; id?: string },
  context: EventContext = {},
): RecordedEvent<Data, Type> {
  const now = context.now?.() ?? Date.now();
  const id = event.id ?? uuidv7(now);
  const meta: EventMeta = {
    actor: context.actor ?? "anonymous",
    device: context.device ?? "unknown",
    occurredAt: now,
    correlationId: context.correlationId ?? id,
  };
  if (context.causationId !== undefined) meta.causationId = context.causationId;
  return { id, stream, type: event.type, version: event.version, data: event.data, meta };
}

/**
 * The context for events caused by `event`: same workflow (correlation), caused by it.
 *
 * @example
 * await handle("invoice:7", { kind: "issue" }, causedBy(orderPlaced));
 */
export function causedBy(
  event: Pick<RecordedEvent, "id" | "meta">,
  context: Omit<EventContext, "correlationId" | "causationId"> = {},
): EventContext {
  return { ...context, correlationId: event.meta.correlationId, causationId: event.id };
}

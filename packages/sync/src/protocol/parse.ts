// Parsing with coded errors. Every frame and body goes through here on both sides:
// - not text, not JSON, no/unknown `t`, wrong protocol version -> `protocol`;
// - a frame or body over the byte limit, an event over its limit, too many events -> `too-large`;
// - a schema violation (wrong types, bad stream id, duplicate ids, stream mismatch) -> `validation`.
// The request id, when one could be read, is in `details.req` so the node can echo it.
import { assertExactJson, ChronicleError, MAX_JSON_DEPTH, scanJsonText } from "@chronicle/core";
import type { z } from "zod";
import {
  type ClientFrame,
  clientFrame,
  type PushBody,
  pullQuery,
  pushBody,
  type ServerFrame,
  serverFrame,
  type WireEvent,
} from "./frames.ts";
import { byteLength, defaultLimits, PROTOCOL_VERSION, type ProtocolLimits } from "./limits.ts";

const clientFrameTypes = new Set(["hello", "push", "pull"]);
const serverFrameTypes = new Set(["welcome", "ack", "events", "conflict", "error"]);

function fail(
  code: "protocol" | "validation" | "too-large",
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw new ChronicleError(code, message, { details });
}

/**
 * Turns a zod error into a `validation` ChronicleError naming the first failing path.
 *
 * @example
 * const parsed = schema.safeParse(value);
 * if (!parsed.success) throw validationError(parsed.error, "body");
 */
export function validationError(
  error: z.ZodError,
  what: string,
  details: Record<string, unknown> = {},
): ChronicleError {
  const issue = error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
  return new ChronicleError("validation", `${what}: ${path}: ${issue?.message ?? "invalid"}`, {
    details: { ...details, path },
  });
}

// A WebSocket frame that is not JSON text breaks the protocol; an HTTP body that is not JSON is
// bad input (`validation`, 400), since HTTP has no protocol errors of its own.
function parseJsonText(
  text: unknown,
  limits: ProtocolLimits,
  what: string,
  notJson: "protocol" | "validation" = "protocol",
): unknown {
  if (typeof text !== "string") fail(notJson, `${what} must be JSON text`);
  if (text.length > limits.maxFrameBytes || byteLength(text) > limits.maxFrameBytes) {
    fail("too-large", `${what} exceeds ${limits.maxFrameBytes} bytes`, {
      limit: limits.maxFrameBytes,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(notJson, `${what} is not valid JSON`);
  }
  // Deeply nested JSON would overflow the stack of the schema check (and of every consumer); a
  // key twice in one object would be stored as only its last value (core's exact-json.ts, rule 5).
  const scan = scanJsonText(text);
  if (scan.depth > MAX_JSON_DEPTH) {
    fail("validation", `${what} is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      ...requestIdOf(value),
      path: "(root)",
    });
  }
  if (scan.duplicate) {
    const { path, key } = scan.duplicate;
    fail(
      "validation",
      `${what}: ${path}: key ${JSON.stringify(key).slice(0, 200)} appears twice (JSON would keep only the last)`,
      { ...requestIdOf(value), path },
    );
  }
  return value;
}

function requestIdOf(value: unknown): Record<string, unknown> {
  const req = (value as { req?: unknown } | null)?.req;
  return typeof req === "string" && req.length > 0 && req.length <= 64 ? { req } : {};
}

/**
 * Parses a client -> node WebSocket frame.
 *
 * @example
 * const frame = parseClientFrame(message); // throws ChronicleError with code protocol | validation | too-large
 */
export function parseClientFrame(
  text: unknown,
  limits: ProtocolLimits = defaultLimits,
): ClientFrame {
  const value = parseJsonText(text, limits, "frame");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("protocol", "frame must be a JSON object");
  }
  const t = (value as { t?: unknown }).t;
  const req = requestIdOf(value);
  if (typeof t !== "string" || !clientFrameTypes.has(t)) {
    fail("protocol", `unknown frame type ${JSON.stringify(t)}`, req);
  }
  if (t === "hello") {
    const version = (value as { protocol?: unknown }).protocol;
    if (version !== PROTOCOL_VERSION) {
      fail(
        "protocol",
        `unsupported protocol version ${JSON.stringify(version)}; this node speaks ${PROTOCOL_VERSION}`,
      );
    }
  }
  if (t === "push") checkPushShape(value, limits, req);
  const parsed = clientFrame.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, `${t} frame`, req);
  if (parsed.data.t === "push") {
    checkEvents((value as { events: unknown[] }).events, parsed.data.events, limits, req);
  }
  return parsed.data;
}

/**
 * Parses a node -> client frame (the client trusts nothing either).
 *
 * @example
 * const frame = parseServerFrame(message.data); // throws ChronicleError with code protocol | too-large
 */
export function parseServerFrame(
  text: unknown,
  limits: ProtocolLimits = defaultLimits,
): ServerFrame {
  const value = parseJsonText(
    text,
    { ...limits, maxFrameBytes: limits.maxFrameBytes * 4 },
    "server frame",
  );
  const t = (value as { t?: unknown } | null)?.t;
  if (typeof t !== "string" || !serverFrameTypes.has(t)) {
    fail("protocol", `unknown server frame type ${JSON.stringify(t)}`);
  }
  const parsed = serverFrame.safeParse(value);
  if (!parsed.success) {
    throw new ChronicleError("protocol", validationError(parsed.error, `${t} frame`).message);
  }
  return parsed.data;
}

/**
 * Parses the JSON body of `POST /v1/streams/:stream/events` (already size-checked text).
 *
 * @example
 * const { events, expected } = parsePushBody(await request.text(), limits);
 */
export function parsePushBody(text: unknown, limits: ProtocolLimits = defaultLimits): PushBody {
  const value = parseJsonText(text, limits, "body", "validation");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("validation", "body must be a JSON object", { path: "(root)" });
  }
  checkPushShape(value, limits, {});
  const parsed = pushBody.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, "body");
  checkEvents((value as { events: unknown[] }).events, parsed.data.events, limits, {});
  return parsed.data;
}

/**
 * Checks events a client is about to store as pending exactly as the node will check them when
 * they are pushed: exact JSON, the envelope schema with no field it would drop, ids unique, each
 * within the event size limit (the count and frame limits do not apply: pushes are batched).
 * Throws `validation` or `too-large` with `details.path` (`events.<index>...`).
 *
 * @example
 * checkPushable(events, limits); // before LocalLog.addPending
 */
export function checkPushable(
  events: readonly unknown[],
  limits: ProtocolLimits = defaultLimits,
): void {
  events.forEach((event, index) => {
    assertExactJson(event, `events.${index}`);
  });
  const parsed = pushBody.safeParse({ events });
  if (!parsed.success) throw validationError(parsed.error, "event");
  checkEvents(events, parsed.data.events, limits, {});
}

/**
 * Parses the query of `GET /v1/streams/:stream/events`.
 *
 * @example
 * const { after, limit } = parsePullQuery({ after: "10", limit: undefined }); // { after: 10, limit: 500 }
 */
export function parsePullQuery(
  query: Record<string, string | undefined>,
  limits: ProtocolLimits = defaultLimits,
): {
  /** The page starts after this position. */
  after: number;
  /** The page size: the query's, else the default, capped at the maximum. */
  limit: number;
} {
  const parsed = pullQuery.safeParse(query);
  if (!parsed.success) throw validationError(parsed.error, "query");
  return {
    after: parsed.data.after,
    limit: Math.min(parsed.data.limit ?? limits.defaultPullLimit, limits.maxPullLimit),
  };
}

/**
 * Checks pushed events against the URL's stream: every `stream` must equal it (`validation`).
 * Node-owned fields are not checked here: the node overwrites them.
 *
 * @example
 * checkEventsStream(c.req.param("stream"), body.events);
 */
export function checkEventsStream(stream: string, events: readonly WireEvent[]): void {
  events.forEach((event, index) => {
    if (event.stream !== stream) {
      fail(
        "validation",
        `events.${index}.stream is ${JSON.stringify(event.stream)} but the URL's stream is ${JSON.stringify(stream)}`,
        {
          path: `events.${index}.stream`,
        },
      );
    }
  });
}

// Count before validating contents: a 100,000-event push is refused without parsing each one.
// Then every event must be exact JSON (core's exact-json.ts).
function checkPushShape(value: object, limits: ProtocolLimits, req: Record<string, unknown>): void {
  const events = (value as { events?: unknown }).events;
  if (Array.isArray(events) && events.length > limits.maxEventsPerPush) {
    fail(
      "too-large",
      `a push may hold at most ${limits.maxEventsPerPush} events, got ${events.length}`,
      {
        ...req,
        limit: limits.maxEventsPerPush,
      },
    );
  }
  // Exactness before the schema: its messages name the value (1e400 is "Infinity"), not a union.
  if (Array.isArray(events)) {
    for (const [index, event] of events.entries()) {
      assertExactJson(event, `events.${index}`, req);
    }
  }
}

// `raw` is the events as JSON.parse gave them, `events` as the schema returned them: what the
// node stores must be exactly what was sent, so anything the schema would drop or change is
// refused here rather than stored differently (core's exact-json.ts).
function checkEvents(
  raw: readonly unknown[],
  events: readonly WireEvent[],
  limits: ProtocolLimits,
  req: Record<string, unknown>,
): void {
  const ids = new Set<string>();
  events.forEach((event, index) => {
    const size = byteLength(JSON.stringify(event));
    if (size > limits.maxEventBytes) {
      fail(
        "too-large",
        `events.${index} is ${size} bytes; an event may be at most ${limits.maxEventBytes}`,
        {
          ...req,
          path: `events.${index}`,
          limit: limits.maxEventBytes,
        },
      );
    }
    if (ids.has(event.id)) {
      fail("validation", `events.${index}.id ${event.id} appears twice in one push`, {
        ...req,
        path: `events.${index}.id`,
      });
    }
    ids.add(event.id);
    const changed = firstDifference(raw[index], event, `events.${index}`);
    if (changed !== undefined) {
      const why = changed.unknown
        ? "is not part of the event envelope, so it would not be stored"
        : "would not be stored as sent";
      fail("validation", `${changed.path}: ${why}`, { ...req, path: changed.path });
    }
  });
}

/** The first path where `parsed` (a schema's output) differs from `raw` (its input). */
function firstDifference(
  raw: unknown,
  parsed: unknown,
  path: string,
): { path: string; unknown: boolean } | undefined {
  if (typeof raw !== "object" || raw === null || typeof parsed !== "object" || parsed === null) {
    return Object.is(raw, parsed) ? undefined : { path, unknown: false };
  }
  if (Array.isArray(raw) !== Array.isArray(parsed)) return { path, unknown: false };
  const rawKeys = Object.keys(raw);
  for (const key of rawKeys) {
    if (!Object.hasOwn(parsed, key)) return { path: `${path}.${key}`, unknown: true };
    const found = firstDifference(
      (raw as Record<string, unknown>)[key],
      (parsed as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (found !== undefined) return found;
  }
  if (Object.keys(parsed).length !== rawKeys.length) return { path, unknown: false };
  return undefined;
}

/**
 * Serialises a frame (the one place frames become text).
 *
 * @example
 * socket.send(encodeFrame({ t: "pull", req: "r1", after: head }));
 */
export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}

// The append decision table, shared by every store so that they all agree (EventStoreDB's
// idempotency rules):
// 1. A batch whose ids are all already stored, contiguously and in order, where the expected
//    version says they should be, is a duplicate: the original result, nothing written.
// 2. A batch whose ids are all stored elsewhere, or only partly stored, is a `concurrency` error:
//    nothing written (re-deciding gives new ids; re-sending the same batch cannot succeed).
// 3. Otherwise the expected version is checked against the head, then the batch is written.
import { ChronicleError } from "../errors.ts";
import { assertStreamId, isStreamId } from "../events/envelope.ts";
import { assertExactJson } from "../events/exact-json.ts";
import type { AppendedEvent, ExpectedVersion, NewEvent } from "./types.ts";

/** What {@link planAppend} decided: write the batch, or answer with the stored results. */
export type AppendPlan =
  | {
      /** None of the ids is stored: write the batch after the head. */
      kind: "write";
    }
  | {
      /** The whole batch is already stored where expected: write nothing. */
      kind: "duplicate";
      /** The stored events' results, in the batch's order. */
      results: AppendedEvent[];
    };

/**
 * Throws `validation` for a malformed batch: bad stream, envelope fields, repeated ids, or an
 * event that is not exact JSON (`details.path` says where).
 *
 * @example
 * validateBatch(stream, events); // before planAppend
 */
export function validateBatch(stream: string, events: readonly NewEvent[]): void {
  assertStreamId(stream);
  if (!Array.isArray(events)) {
    throw new ChronicleError("validation", "events must be an array", {
      details: { path: "events" },
    });
  }
  const seen = new Set<string>();
  events.forEach((event, index) => {
    const fail = (path: string, message: string): never => {
      throw new ChronicleError("validation", `events[${index}].${path}: ${message}`, {
        details: { path: `events.${index}.${path}`, index },
      });
    };
    if (typeof event !== "object" || event === null) fail("", "must be an object");
    if (typeof event.id !== "string" || event.id.length === 0 || event.id.length > 64) {
      fail("id", "must be a non-empty string of at most 64 characters");
    }
    if (seen.has(event.id)) fail("id", `duplicate id ${event.id} in one batch`);
    seen.add(event.id);
    if (event.stream !== stream) {
      fail("stream", `is ${JSON.stringify(event.stream)} but the batch is for ${stream}`);
    }
    if (!isStreamId(event.stream)) fail("stream", "invalid stream id");
    if (typeof event.type !== "string" || event.type.length === 0 || event.type.length > 128) {
      fail("type", "must be a non-empty string of at most 128 characters");
    }
    if (!Number.isInteger(event.version) || event.version < 1) {
      fail("version", "must be an integer >= 1");
    }
    if (event.data === undefined) fail("data", "is required (use null for no data)");
    const meta = event.meta;
    if (typeof meta !== "object" || meta === null) fail("meta", "must be an object");
    if (typeof meta.actor !== "string") fail("meta.actor", "must be a string");
    if (typeof meta.device !== "string") fail("meta.device", "must be a string");
    if (typeof meta.occurredAt !== "number" || !Number.isFinite(meta.occurredAt)) {
      fail("meta.occurredAt", "must be a number");
    }
    if (typeof meta.correlationId !== "string") fail("meta.correlationId", "must be a string");
  });
  // Stored exactly as written, on every device, or refused (docs/architecture.md, "Exact data").
  assertExactJson(events, "events");
}

/**
 * Throws `validation` for an expected version that is not one of the four forms.
 *
 * @example
 * validateExpectedVersion(options.expectedVersion ?? "any");
 */
export function validateExpectedVersion(expected: ExpectedVersion): void {
  if (expected === "any" || expected === "no-stream" || expected === "exists") return;
  if (typeof expected === "number" && Number.isInteger(expected) && expected >= 0) return;
  throw new ChronicleError(
    "validation",
    `expectedVersion must be "any", "no-stream", "exists" or an integer >= 0, got ${JSON.stringify(expected)}`,
    { details: { path: "expectedVersion" } },
  );
}

/**
 * The `concurrency` error of a stream whose head does not match what the writer expected; its
 * details hold the stream, the expected version, the head and the reason.
 *
 * @example
 * if (!matchesExpected(expected, head)) throw concurrencyError(stream, expected, head);
 */
export function concurrencyError(
  stream: string,
  expected: ExpectedVersion,
  head: number,
  reason = "wrong expected version",
): ChronicleError {
  return new ChronicleError(
    "concurrency",
    `${stream}: ${reason} (expected ${JSON.stringify(expected)}, head is ${head})`,
    { details: { stream, expected, head, reason } },
  );
}

/**
 * True when a stream at `head` satisfies `expected`.
 *
 * @example
 * matchesExpected("no-stream", 0); // true
 * matchesExpected(3, 4); // false
 */
export function matchesExpected(expected: ExpectedVersion, head: number): boolean {
  if (expected === "any") return true;
  if (expected === "no-stream") return head === 0;
  if (expected === "exists") return head > 0;
  return head === expected;
}

/**
 * Decides what an append does, given the stream head and a lookup of already-stored ids.
 * Call {@link validateBatch} first.
 *
 * @example
 * validateBatch(stream, events);
 * const plan = planAppend(stream, events, expected, head, (id) => byId.get(id));
 * if (plan.kind === "duplicate") return { results: plan.results, head };
 */
export function planAppend(
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedVersion,
  head: number,
  lookup: (id: string) => AppendedEvent | undefined,
): AppendPlan {
  validateExpectedVersion(expected);
  const stored = events.map((event) => lookup(event.id));
  const storedCount = stored.filter((entry) => entry !== undefined).length;

  if (storedCount === 0) {
    if (!matchesExpected(expected, head)) throw concurrencyError(stream, expected, head);
    return { kind: "write" };
  }
  if (storedCount < events.length) {
    throw concurrencyError(stream, expected, head, "batch partly matches events already stored");
  }
  const results = stored as AppendedEvent[];
  const first = results[0]!.position;
  const contiguous = results.every((entry, index) => entry.position === first + index);
  const placed =
    typeof expected === "number"
      ? first === expected + 1
      : expected === "no-stream"
        ? first === 1
        : true;
  if (!contiguous || !placed) {
    throw concurrencyError(stream, expected, head, "events already stored at other positions");
  }
  return { kind: "duplicate", results };
}

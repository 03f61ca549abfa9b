// internal: not exported. What a push does (docs/architecture.md, rule 3, "Strict pushes"), decided
// from the head and the events already stored, before anything is written:
// 1. Idempotency comes first: events whose ids are stored are answered with their stored
//    positions and not written again; only the new ones are written, in the order given.
// 2. A stored id pushed again must carry the same content (everything but the node-owned
//    position, recordedAt and meta.actor; key order aside): otherwise the whole push is refused
//    with `id-conflict`, so no device keeps as confirmed a copy that differs from the log.
// 3. A push whose events are all stored is acked, strict or not (a re-push after a lost ack).
// 4. A strict push (`expected`) of new events is accepted only if nothing but its own already
//    stored events lies after `expected`; otherwise it is a `conflict` with the head.
// The EventStore-style append (core's planAppend) differs on purpose: there a partly stored
// batch is a `concurrency` error. Both paths write through LogTable.commit.
import { type AppendedEvent, ChronicleError, type NewEvent } from "@chronicle/core";

/** An event already in the log: where it is, and its stored body (JSON text). */
export type StoredEvent = AppendedEvent & { body: string };

export type PushPlan =
  | { kind: "conflict"; head: number }
  | {
      kind: "write";
      /** The events to store, in push order. */
      fresh: NewEvent[];
      /** Per pushed event: its stored result, or undefined for the fresh ones. */
      stored: (AppendedEvent | undefined)[];
    };

export function planPush(
  events: readonly NewEvent[],
  expected: number | undefined,
  head: number,
  lookup: (id: string) => StoredEvent | undefined,
): PushPlan {
  const found = events.map((event) => lookup(event.id));
  found.forEach((entry, index) => {
    if (entry && !sameContent(events[index]!, entry.body)) {
      throw new ChronicleError(
        "id-conflict",
        `events.${index}.id ${entry.id} is stored at position ${entry.position} with other content; an id names one event`,
        { details: { path: `events.${index}.id`, id: entry.id, position: entry.position } },
      );
    }
  });
  const stored = found.map(
    (entry) => entry && { id: entry.id, position: entry.position, recordedAt: entry.recordedAt },
  );
  const fresh = events.filter((_, index) => stored[index] === undefined);
  if (fresh.length > 0 && expected !== undefined) {
    const ownAfterExpected = stored.filter((entry) => entry && entry.position > expected).length;
    if (head - expected !== ownAfterExpected) return { kind: "conflict", head };
  }
  return { kind: "write", fresh, stored };
}

/** Merges stored results and the positions just assigned into one result per pushed event. */
export function pushResults(
  plan: Extract<PushPlan, { kind: "write" }>,
  written: readonly AppendedEvent[],
): AppendedEvent[] {
  let next = 0;
  return plan.stored.map((entry) => entry ?? written[next++]!);
}

/** The event without what the node owns, as canonical JSON (keys sorted at every level). */
function content(event: unknown): string {
  const { position: _p, recordedAt: _r, meta, ...rest } = event as Record<string, unknown>;
  const { actor: _actor, ...ownMeta } = (meta ?? {}) as Record<string, unknown>;
  return JSON.stringify({ ...rest, meta: ownMeta }, (_key, value: unknown) =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}

function sameContent(pushed: NewEvent, storedBody: string): boolean {
  return content(pushed) === content(JSON.parse(storedBody));
}

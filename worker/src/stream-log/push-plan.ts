// internal: not exported. What a push does (docs/architecture.md, rule 3, "Strict pushes"), decided
// from the head and the ids already stored, before anything is written:
// 1. Idempotency comes first: events whose ids are stored are answered with their stored
//    positions and not written again; only the new ones are written, in the order given.
// 2. A push whose events are all stored is acked, strict or not (a re-push after a lost ack).
// 3. A strict push (`expected`) of new events is accepted only if nothing but its own already
//    stored events lies after `expected`; otherwise it is a `conflict` with the head.
// The EventStore-style append (core's planAppend) differs on purpose: there a partly stored
// batch is a `concurrency` error. Both paths write through LogTable.commit.
import type { AppendedEvent, NewEvent } from "@chronicle/core";

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
  lookup: (id: string) => AppendedEvent | undefined,
): PushPlan {
  const stored = events.map((event) => lookup(event.id));
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

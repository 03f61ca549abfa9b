// internal: not exported. Delivers one outbox command with deterministic event ids
// (docs/architecture.md, "Processes", invariants P2 and P3).
import type { Decider } from "../decider/define-decider.ts";
import { isChronicleError } from "../errors.ts";
import { createEnvelope, type EventContext, type RecordedEvent } from "../events/envelope.ts";
import { foldEvents, initialStateOf } from "../fold/foldable.ts";
import type { EventStore } from "../store/types.ts";
import { processEventId } from "./deterministic-id.ts";
import type { OutboxEntry, ProcessError } from "./process-store.ts";

/** What delivering a command did. */
export type DeliveryOutcome =
  | { kind: "delivered"; eventIds: string[] }
  | { kind: "refused"; error: ProcessError }
  | { kind: "failed"; error: ProcessError };

const maxConcurrencyRetries = 5;

/**
 * Runs an outbox command against its stream, at most once in effect:
 * 1. if the stream already holds the command's first deterministic id, it was delivered before
 *    (appends are atomic, so the whole batch is there): nothing is decided again;
 * 2. otherwise decide on the current state and append with the deterministic ids, expecting the
 *    head that was read. A racing delivery of the same step appends the same ids at the same
 *    place (a duplicate, row 1 of the append table) or moves the head (`concurrency`): then read
 *    again, and step 1 finds the ids.
 * A `ChronicleError` thrown by `decide` (or by event validation), other than `internal`, is a
 * refusal; any other error from `decide` is a failure. Store errors are thrown: the outbox entry
 * stays and is delivered again later.
 */
export async function deliverCommand(
  store: EventStore,
  decider: Decider,
  entry: OutboxEntry,
  at: { process: string; instance: string },
  context: EventContext,
): Promise<DeliveryOutcome> {
  const idOf = (event: number) =>
    processEventId({ ...at, step: entry.step, command: entry.index, event });
  for (let attempt = 0; ; attempt++) {
    const events = await store.readStream(entry.stream);
    const stored = new Set(events.map((event) => event.id));
    if (stored.has(idOf(0))) {
      const eventIds: string[] = [];
      for (let n = 0; stored.has(idOf(n)); n++) eventIds.push(idOf(n));
      return { kind: "delivered", eventIds };
    }
    let envelopes: RecordedEvent[];
    try {
      const state = foldEvents(decider, initialStateOf(decider), events);
      envelopes = decider
        .decide(structuredClone(entry.command), state)
        .map((event, n) =>
          createEnvelope(
            entry.stream,
            { ...decider.registry.validate(event), id: idOf(n) },
            context,
          ),
        );
    } catch (error) {
      const described = describeError(error, entry.id);
      if (isChronicleError(error) && error.code !== "internal") {
        return { kind: "refused", error: described };
      }
      return { kind: "failed", error: described };
    }
    if (envelopes.length === 0) return { kind: "delivered", eventIds: [] };
    try {
      await store.append(entry.stream, envelopes, {
        expectedVersion: events.length === 0 ? "no-stream" : events.length,
      });
      return { kind: "delivered", eventIds: envelopes.map((event) => event.id) };
    } catch (error) {
      if (!isChronicleError(error, "concurrency") || attempt >= maxConcurrencyRetries) throw error;
    }
  }
}

/** A thrown value as a {@link ProcessError}. */
export function describeError(error: unknown, outboxId?: string): ProcessError {
  const code = isChronicleError(error) ? error.code : "internal";
  const message = error instanceof Error ? error.message : String(error);
  return outboxId === undefined ? { code, message } : { code, message, outboxId };
}

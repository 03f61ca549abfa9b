import type { AnyEventDefinition, EventOf } from "../events/define-event.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { createEventRegistry, type EventRegistry } from "../events/registry.ts";

/** What a reaction handler gets besides the event. */
export interface ReactionContext {
  /** Stable per reaction and event (UUID-shaped): pass it to the outside world's idempotency. */
  idempotencyKey: string;
  /** 1 for the first call for this event, 2 for the first retry, ... */
  attempt: number;
}

/** How a reaction retries a failing event. */
export interface RetryPolicy {
  /** Attempts before the event goes to the dead-letter list. @default 5 */
  maxAttempts?: number;
  /**
   * The wait before attempt n + 1: a function of n, or a base doubled each time
   * (`base * 2 ** (n - 1)`). @default 1000
   */
  backoffMs?: number | ((attempt: number) => number);
}

/** What {@link defineReaction} takes. */
export interface ReactionSpec<Defs extends readonly AnyEventDefinition[]> {
  /** Names the reaction's checkpoint and dead letters. Never rename one. */
  name: string;
  /** The event types it handles, from any stream. */
  events: Defs;
  /** Calls the outside world. Throw to retry; it may be called more than once per event. */
  handle: (event: EventOf<Defs>, context: ReactionContext) => void | Promise<void>;
  /** How to retry. */
  retry?: RetryPolicy;
}

/** A declared reaction (see {@link defineReaction}). */
export interface Reaction {
  /** Tells reactions from processes. */
  readonly kind: "reaction";
  /** The reaction name. */
  readonly name: string;
  /** Knows the handled types and upcasts stored events. */
  readonly registry: EventRegistry;
  /** Attempts before dead-lettering. */
  readonly maxAttempts: number;
  /** The wait after failed attempt n. */
  backoff(attempt: number): number;
  /** The spec's handler, on an upcast event. */
  handle(event: RecordedEvent, context: ReactionContext): void | Promise<void>;
}

/**
 * Declares a reaction: a side effect (an email, a payment provider call) run for each event of
 * some types, at least once, with a durable checkpoint, retries with backoff, and a dead-letter
 * list for events that keep failing.
 *
 * @example
 * const receipts = defineReaction({
 *   name: "send-receipt",
 *   events: [paymentCharged],
 *   handle: async (event, { idempotencyKey }) => mailer.send(event.data.email, { idempotencyKey }),
 *   retry: { maxAttempts: 5, backoffMs: 1000 },
 * });
 */
export function defineReaction<const Defs extends readonly AnyEventDefinition[]>(
  spec: ReactionSpec<Defs>,
): Reaction {
  if (!spec.name) throw new Error("defineReaction: name is required");
  const maxAttempts = spec.retry?.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`defineReaction(${spec.name}): maxAttempts must be an integer >= 1`);
  }
  const backoffMs = spec.retry?.backoffMs ?? 1000;
  return {
    kind: "reaction",
    name: spec.name,
    registry: createEventRegistry(spec.events),
    maxAttempts,
    backoff: (attempt) =>
      typeof backoffMs === "function" ? backoffMs(attempt) : backoffMs * 2 ** (attempt - 1),
    handle: (event, context) => spec.handle(event as EventOf<Defs>, context),
  };
}

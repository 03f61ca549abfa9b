import type { Decider } from "../decider/define-decider.ts";
import { type ErrorCode, isChronicleError } from "../errors.ts";
import type { AnyEventDefinition, EventInputOf } from "../events/define-event.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { foldEvents, initialStateOf } from "../fold/foldable.ts";

/** Thrown when a specification does not hold; carries `expected`/`actual` for test-runner diffs. */
export class SpecificationError extends Error {
  /** Always `"SpecificationError"`. */
  override readonly name = "SpecificationError";
  /** Tells test runners (Vitest, Mocha) to print a diff of `expected` and `actual`. */
  readonly showDiff = true;
  constructor(
    message: string,
    /** What the specification asked for. */
    readonly expected: unknown,
    /** What the decider did. */
    readonly actual: unknown,
  ) {
    super(message);
  }
}

/**
 * A past event for `given`: an input `{ type, data }`, or a recorded event (any version).
 * Internal: not exported; the docs show it inline in `given`'s signature.
 *
 * @inline
 */
type GivenEvent<Defs extends readonly AnyEventDefinition[]> =
  | EventInputOf<Defs>
  | Pick<RecordedEvent, "type" | "version" | "data">;

/** A specification with its command: assert what the decider does with it. */
export interface DeciderWhen<State, Defs extends readonly AnyEventDefinition[]> {
  /** Asserts the events the command decides (compared by type and data, after validation). */
  then(expected: readonly EventInputOf<Defs>[]): void;
  /** Asserts the command is refused with a ChronicleError of this code (or matching the predicate). */
  thenThrows(expected?: ErrorCode | ((error: unknown) => boolean)): void;
  /** Asserts the state after applying the decided events. */
  thenState(expected: State): void;
}

/** A specification with its past events: give it the command. */
export interface DeciderGiven<Command, State, Defs extends readonly AnyEventDefinition[]> {
  /** The command to decide on the state the given events fold to. */
  when(command: Command): DeciderWhen<State, Defs>;
}

/**
 * Given/when/then specifications for deciders, independent of the test runner.
 *
 * @example
 * const spec = deciderSpec(boardDecider);
 * spec.given([cardAdded.create({ id: "c1", title: "A", column: "todo" })])
 *   .when({ type: "moveCard", id: "c1", to: "done" })
 *   .then([cardMoved.create({ id: "c1", to: "done" })]);
 * spec.given([]).when({ type: "moveCard", id: "nope", to: "done" }).thenThrows("not-found");
 */
export function deciderSpec<Command, State, Defs extends readonly AnyEventDefinition[]>(
  decider: Decider<Command, State, Defs>,
): {
  /** The stream's past events (an empty array for a new stream). */
  given(events: readonly GivenEvent<Defs>[]): DeciderGiven<Command, State, Defs>;
} {
  return {
    given(events) {
      const recorded = events.map((event, index) => toRecorded(decider, event, index + 1));
      const state = foldEvents(decider, initialStateOf(decider), recorded);
      return {
        when(command) {
          const run = () =>
            decider
              .decide(command, structuredClone(state))
              .map((event) => decider.registry.validate(event));
          return {
            // biome-ignore lint/suspicious/noThenProperty: the given/when/then idiom; do not await a spec
            then(expected) {
              const actual = run().map(({ type, data }) => ({ type, data }));
              const wanted = expected.map(({ type, data }) => ({ type, data }));
              if (!deepEqual(actual, wanted)) {
                throw new SpecificationError("decided events differ", wanted, actual);
              }
            },
            thenThrows(expected) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              if (thrown === undefined) {
                throw new SpecificationError(
                  "expected the command to be refused",
                  expected,
                  "no error",
                );
              }
              const ok =
                expected === undefined ||
                (typeof expected === "function"
                  ? expected(thrown)
                  : isChronicleError(thrown, expected));
              if (!ok) {
                const actual = isChronicleError(thrown) ? thrown.code : String(thrown);
                throw new SpecificationError(
                  `refused with a different error: ${String(thrown)}`,
                  expected,
                  actual,
                );
              }
            },
            thenState(expected) {
              const decided = run().map((event, index) =>
                toRecorded(decider, event, recorded.length + index + 1),
              );
              const actual = foldEvents(decider, structuredClone(state), decided);
              if (!deepEqual(actual, expected)) {
                throw new SpecificationError("state after the command differs", expected, actual);
              }
            },
          };
        },
      };
    },
  };
}

function toRecorded(
  decider: Decider<any, any, any>,
  event: { type: string; data: unknown; version?: number },
  position: number,
): RecordedEvent {
  const version = event.version ?? decider.registry.definitions.get(event.type)?.version ?? 1;
  return {
    id: `given-${position}`,
    stream: "spec",
    type: event.type,
    version,
    data: event.data,
    meta: { actor: "spec", device: "spec", occurredAt: 0, correlationId: "spec" },
    position,
    recordedAt: 0,
  };
}

/**
 * Structural equality of JSON-like values (key order ignored).
 *
 * @example
 * deepEqual({ a: 1, b: [2] }, { b: [2], a: 1 }); // true
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

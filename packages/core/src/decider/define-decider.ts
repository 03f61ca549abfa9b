import { ChronicleError } from "../errors.ts";
import type { AnyEventDefinition, EventInputOf, EventOf } from "../events/define-event.ts";
import { createEventRegistry, type EventRegistry } from "../events/registry.ts";
import type { Foldable } from "../fold/foldable.ts";

/** What {@link defineDecider} takes: the decider's pure parts and its event types. */
export interface DeciderSpec<Command, State, Defs extends readonly AnyEventDefinition[]> {
  /** Names the decider's snapshots. */
  name: string;
  /** Bump it when `evolve` changes: snapshots of other versions are ignored. @default 1 */
  version?: number;
  /** Every event type `decide` may return and `evolve` reads. */
  events: Defs;
  /** The state of an empty stream; copied, never mutated. */
  initialState: State;
  /** Applies a past event (already upcast to its current version). Pure. */
  evolve: (state: State, event: EventOf<Defs>) => State;
  /**
   * Decides what happens: returns the new events, or throws a `ChronicleError` (usually
   * `validation`) to refuse the command. Pure: same command and state, same events.
   */
  decide: (command: Command, state: State) => EventInputOf<Defs> | readonly EventInputOf<Defs>[];
  /** Save a snapshot at least every N events. @default undefined (no snapshots) */
  snapshotEvery?: number | undefined;
}

/** A decider: `{ initialState, evolve, decide }`, with what the engine needs around it. */
export interface Decider<
  Command = any,
  State = any,
  Defs extends readonly AnyEventDefinition[] = readonly AnyEventDefinition[],
> extends Foldable<State> {
  /** Tells deciders from projections. */
  readonly kind: "decider";
  /** The event definitions it was declared with. */
  readonly events: Defs;
  /** Validates the events `decide` returns and upcasts stored ones. */
  readonly registry: EventRegistry;
  /** The spec's `evolve`: applies one event already upcast to its current version. */
  evolve(state: State, event: EventOf<Defs>): State;
  /**
   * The spec's `decide`, always returning an array; a `decide` that returns nothing fails with
   * an `internal` error naming the decider and the command.
   */
  decide(command: Command, state: State): readonly EventInputOf<Defs>[];
}

/** The command type of a decider. */
export type CommandOf<D> = D extends Decider<infer C, any, any> ? C : never;
/** The state type of a decider or projection. */
export type StateOf<F> = F extends Foldable<infer S> ? S : never;

/**
 * Declares a decider. `decide` may return one event or an array; the engine always sees an array.
 *
 * @example
 * const board = defineDecider({
 *   name: "board",
 *   events: [cardAdded],
 *   initialState: { titles: [] as string[] },
 *   evolve: (state, event) => ({ titles: [...state.titles, event.data.title] }),
 *   decide: (command: { title: string }, state) => {
 *     if (state.titles.includes(command.title)) throw new ChronicleError("validation", "duplicate title");
 *     return cardAdded.create({ id: crypto.randomUUID(), title: command.title, column: "todo" });
 *   },
 * });
 */
export function defineDecider<Command, State, const Defs extends readonly AnyEventDefinition[]>(
  spec: DeciderSpec<Command, State, Defs>,
): Decider<Command, State, Defs> {
  if (!spec.name) throw new Error("defineDecider: name is required");
  const registry = createEventRegistry(spec.events);
  return {
    kind: "decider",
    name: spec.name,
    version: spec.version ?? 1,
    events: spec.events,
    registry,
    initialState: spec.initialState,
    snapshotEvery: spec.snapshotEvery,
    evolve: spec.evolve,
    decide(command, state) {
      const decided = spec.decide(command, state);
      if (decided === undefined || decided === null) {
        throw new ChronicleError(
          "internal",
          `decider "${spec.name}" returned ${decided} for the command ${describe(command)}: ` +
            "decide must return an event, an array of events ([] for none), or throw",
          { details: { decider: spec.name } },
        );
      }
      return Array.isArray(decided) ? decided : [decided as EventInputOf<Defs>];
    },
    knows(type, version) {
      const definition = registry.definitions.get(type);
      return (
        definition !== undefined &&
        Number.isInteger(version) &&
        version >= 1 &&
        version <= definition.version
      );
    },
    apply(state, event) {
      const current = registry.upcast(event);
      return current === undefined ? state : spec.evolve(state, current as EventOf<Defs>);
    },
  };
}

const describedLength = 200;

// The command as JSON for an error message, cut short: a command may hold a large payload.
function describe(command: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(command) ?? String(command);
  } catch {
    text = String(command);
  }
  return text.length > describedLength ? `${text.slice(0, describedLength)}…` : text;
}

import type { AnyEventDefinition, EventOf } from "../events/define-event.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { Foldable } from "../fold/foldable.ts";

/** One handler per event type the projection cares about: `(state, event) => newState`. */
export type ProjectionHandlers<State, Defs extends readonly AnyEventDefinition[]> = {
  [Type in Defs[number]["type"]]?: (
    state: State,
    event: Extract<EventOf<Defs>, { type: Type }>,
  ) => State;
};

/** What {@link defineProjection} takes. */
export interface ProjectionSpec<State, Defs extends readonly AnyEventDefinition[]> {
  /** Unique among the app's projections; part of the persisted state's key. */
  name: string;
  /** Bump it when handlers change: the persisted state is rebuilt from the log. @default 1 */
  version?: number;
  /** The event definitions the handlers read (used to upcast old versions). */
  events: Defs;
  /** The read model before any event; copied, never mutated. */
  initialState: State;
  /** How each event type changes the read model; types without a handler are skipped. */
  handlers: ProjectionHandlers<State, Defs>;
  /** Save a snapshot at least every N events (for temporal reads). @default undefined */
  snapshotEvery?: number | undefined;
  /**
   * Makes it a cross-stream projection: one read model over every stream whose id starts with
   * `prefix` (e.g. `"board:"`), folded in commit order, instead of one per stream. Hosts read it
   * without a stream (the browser's `chronicle.read(projection)`). @default undefined
   */
  prefix?: string | undefined;
}

/** A read model folded from events. Create one with {@link defineProjection}. */
export interface Projection<
  State = unknown,
  Defs extends readonly AnyEventDefinition[] = readonly AnyEventDefinition[],
> extends Foldable<State> {
  /** Tells projections from deciders. */
  readonly kind: "projection";
  /** The event definitions it was declared with. */
  readonly events: Defs;
  /** The spec's handlers, by event type. */
  readonly handlers: ProjectionHandlers<State, Defs>;
  /** For a cross-stream projection, the stream id prefix it folds. */
  readonly prefix?: string | undefined;
}

/**
 * Declares a read model folded from events. Events of other types, and unknown ones written by
 * newer clients, are skipped.
 *
 * @example
 * const board = defineProjection({
 *   name: "board",
 *   events: [cardAdded, cardMoved],
 *   initialState: { cards: {} as Record<string, { title: string; column: string }> },
 *   handlers: {
 *     "card.added": (state, { data }) => ({ cards: { ...state.cards, [data.id]: data } }),
 *     "card.moved": (state, { data }) => ({
 *       cards: { ...state.cards, [data.id]: { ...state.cards[data.id]!, column: data.to } },
 *     }),
 *   },
 * });
 */
export function defineProjection<State, const Defs extends readonly AnyEventDefinition[]>(
  spec: ProjectionSpec<State, Defs>,
): Projection<State, Defs> {
  if (!spec.name) throw new Error("defineProjection: name is required");
  if (spec.prefix !== undefined && (typeof spec.prefix !== "string" || spec.prefix === "")) {
    throw new Error(`defineProjection(${spec.name}): prefix must be a non-empty string`);
  }
  type Handler = (state: State, event: RecordedEvent) => State;
  const table = new Map<string, { definition: AnyEventDefinition; handler: Handler }>();
  for (const definition of spec.events) {
    const handler = (spec.handlers as Record<string, Handler | undefined>)[definition.type];
    if (handler) table.set(definition.type, { definition, handler });
  }
  for (const type of Object.keys(spec.handlers)) {
    if (!table.has(type)) {
      throw new Error(
        `defineProjection(${spec.name}): handler for "${type}" but no such type in events`,
      );
    }
  }
  return {
    kind: "projection",
    name: spec.name,
    version: spec.version ?? 1,
    events: spec.events,
    initialState: spec.initialState,
    handlers: spec.handlers,
    snapshotEvery: spec.snapshotEvery,
    ...(spec.prefix === undefined ? {} : { prefix: spec.prefix }),
    knows(type, version) {
      const entry = table.get(type);
      return (
        entry !== undefined &&
        Number.isInteger(version) &&
        version >= 1 &&
        version <= entry.definition.version
      );
    },
    apply(state, event) {
      const entry = table.get(event.type);
      if (entry === undefined) return state;
      if (event.version === entry.definition.version) return entry.handler(state, event);
      const data = entry.definition.upcast(event.version, event.data);
      if (data === undefined) return state;
      return entry.handler(state, { ...event, version: entry.definition.version, data });
    },
  };
}

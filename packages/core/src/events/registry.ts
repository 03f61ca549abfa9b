import { ChronicleError } from "../errors.ts";
import type { AnyEventDefinition, EventInput } from "./define-event.ts";
import type { RecordedEvent } from "./envelope.ts";

/** A typed, validated event before it gets an envelope: the current version of its type. */
export interface VersionedEventInput<Type extends string = string, Data = unknown> {
  /** The event type, e.g. `"card.moved"`. */
  type: Type;
  /** The definition's current version. */
  version: number;
  /** The data as its schema parsed it. */
  data: Data;
}

/** The event types an app knows, by type name. */
export interface EventRegistry {
  /** Every definition, by type name. */
  readonly definitions: ReadonlyMap<string, AnyEventDefinition>;
  /** True when the registry knows the event type. */
  has(type: string): boolean;
  /**
   * Validates an event input against its definition: `validation` for bad data, and for a type
   * the registry does not know (writing an undeclared type is a programming error).
   */
  validate<T extends string, D>(event: EventInput<T, D>): VersionedEventInput<T, D>;
  /**
   * The event with its data upcast to the current version, or `undefined` when its type or
   * version is unknown here (written by a newer client): callers keep such events untouched and
   * skip them in folds.
   */
  upcast<E extends RecordedEvent>(event: E): E | undefined;
}

/**
 * Collects event definitions; a type may be declared only once.
 *
 * @example
 * const registry = createEventRegistry([cardAdded, cardMoved]);
 * registry.validate({ type: "card.added", data: { id: "c1", title: "" } }); // throws validation
 */
export function createEventRegistry(definitions: Iterable<AnyEventDefinition>): EventRegistry {
  const byType = new Map<string, AnyEventDefinition>();
  for (const definition of definitions) {
    const existing = byType.get(definition.type);
    if (existing && existing !== definition) {
      throw new Error(`event type "${definition.type}" is declared twice`);
    }
    byType.set(definition.type, definition);
  }
  return {
    definitions: byType,
    has: (type) => byType.has(type),
    validate(event) {
      const definition = byType.get(event.type);
      if (!definition) {
        throw new ChronicleError("validation", `unknown event type "${event.type}"`, {
          details: { path: "type", type: event.type },
        });
      }
      return { type: event.type, version: definition.version, data: definition.parse(event.data) };
    },
    upcast(event) {
      const definition = byType.get(event.type);
      if (!definition) return undefined;
      if (event.version === definition.version) return event;
      const data = definition.upcast(event.version, event.data);
      if (data === undefined) return undefined;
      return { ...event, version: definition.version, data };
    },
  };
}

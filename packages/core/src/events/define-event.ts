import type { z } from "zod";
import { ChronicleError } from "../errors.ts";
import type { RecordedEvent } from "./envelope.ts";
import { findInexactJson, findProtoKey } from "./exact-json.ts";

/** What a decider returns and `append` accepts: a typed fact, before it has an envelope. */
export interface EventInput<Type extends string = string, Data = unknown> {
  /** The event type, e.g. `"card.moved"`. */
  type: Type;
  /** The fact's payload, valid against the definition's current schema. */
  data: Data;
}

/** Returned by an inverse that no longer applies: undo skips the step with this reason. */
export interface UndoSkip {
  /** Why the step cannot be undone any more, for people ("the card was deleted"). */
  skip: string;
}

/**
 * How to compensate an event, for undo/redo. `before` is the decider's state just before the
 * event, `now` the current state (with other actors' later changes); return the events that
 * undo it against `now`, or `{ skip: reason }` when that is no longer possible.
 */
export type Inverter<Type extends string, Data> = (
  event: RecordedEvent<Data, Type>,
  context: { before: any; now: any },
) => EventInput | readonly EventInput[] | UndoSkip;

/** Turns data of version `n` into data of version `n + 1`. */
export type Upcaster = (data: any) => unknown;

/** What {@link defineEvent} takes. */
export interface EventDefinitionSpec<Type extends string, Schema extends z.ZodType> {
  /** Past-tense fact name, e.g. `"card.moved"`. */
  type: Type;
  /** Current schema version (integer >= 1). @default 1 */
  version?: number;
  /** zod schema of the current version's data. */
  schema: Schema;
  /**
   * One upcaster per old version, keyed by the version it reads: `{ 1: v1 => v2, 2: v2 => v3 }`.
   * Applied on read, so handlers only ever see the current shape.
   */
  upcasters?: Record<number, Upcaster>;
  /** How to undo this event (see {@link Inverter}); events without one cannot be undone. */
  invert?: Inverter<Type, z.output<Schema>>;
}

/** A declared event type. Create one with {@link defineEvent}. */
export interface EventDefinition<Type extends string = string, Data = unknown, Input = Data> {
  /** The event type, e.g. `"card.moved"`. */
  readonly type: Type;
  /** The current schema version: new events are written with it. */
  readonly version: number;
  /** zod schema of the current version's data. */
  readonly schema: z.ZodType<Data, Input>;
  /** Validates `data` (throws `validation` naming the field) and returns a typed event input. */
  create(data: Input): EventInput<Type, Data>;
  /** Validates data of the current version; throws `ChronicleError{code:"validation"}`. */
  parse(data: unknown): Data;
  /**
   * Brings data written as `version` to the current version. Returns `undefined` for a version
   * newer than this definition knows (written by a newer client): such events are kept untouched.
   */
  upcast(version: number, data: unknown): Data | undefined;
  /** Type guard on recorded events. */
  is(event: Pick<RecordedEvent, "type">): event is RecordedEvent<Data, Type>;
  /** How to undo this event, when declared (method syntax: definitions stay assignable to AnyEventDefinition). */
  invert?(
    event: RecordedEvent<Data, Type>,
    context: { before: any; now: any },
  ): EventInput | readonly EventInput[] | UndoSkip;
}

/** Any event definition, whatever its type and data: the constraint for lists of definitions. */
export type AnyEventDefinition = EventDefinition<string, any, any>;

/** The data type of a definition. */
export type EventData<D> = D extends EventDefinition<string, infer Data, any> ? Data : never;

/** The recorded-event union of a list of definitions, discriminated by `type`. */
export type EventOf<Defs extends readonly AnyEventDefinition[]> = RecordedEventOf<Defs[number]>;
// Distributes over the union of definitions (internal: not exported).
type RecordedEventOf<D> =
  D extends EventDefinition<infer T, infer Data, any> ? RecordedEvent<Data, T> : never;

/** The event-input union of a list of definitions (what deciders return). */
export type EventInputOf<Defs extends readonly AnyEventDefinition[]> = InputOf<Defs[number]>;
// Distributes over the union of definitions (internal: not exported).
type InputOf<D> = D extends EventDefinition<infer T, infer Data, any> ? EventInput<T, Data> : never;

/**
 * Declares an event type with a zod schema and a version; older versions are upcast on read.
 *
 * @example
 * const cardAdded = defineEvent({
 *   type: "card.added",
 *   version: 2,
 *   schema: z.object({ id: z.string(), title: z.string().min(1), column: z.string() }),
 *   upcasters: { 1: (v1: { id: string; title: string }) => ({ ...v1, column: "todo" }) },
 * });
 * cardAdded.create({ id: "c1", title: "Write docs", column: "todo" });
 */
export function defineEvent<const Type extends string, Schema extends z.ZodType>(
  spec: EventDefinitionSpec<Type, Schema>,
): EventDefinition<Type, z.output<Schema>, z.input<Schema>> {
  type Data = z.output<Schema>;
  const version = spec.version ?? 1;
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`defineEvent(${spec.type}): version must be an integer >= 1, got ${version}`);
  }
  const upcasters = spec.upcasters ?? {};
  for (let v = 1; v < version; v++) {
    if (typeof upcasters[v] !== "function") {
      throw new Error(
        `defineEvent(${spec.type}): version ${version} needs an upcaster from version ${v} to ${v + 1}`,
      );
    }
  }
  const schema = spec.schema as unknown as z.ZodType<Data, z.input<Schema>>;

  // What is stored and synced must read back the same everywhere (exact-json.ts): a
  // `__proto__` key is refused before the schema copies (and silently loses) it, anything else
  // JSON would change in the schema's output.
  const inexact = (path: string, reason: string) =>
    new ChronicleError(
      "validation",
      `${spec.type} v${version}: data${path === "(root)" ? "" : `.${path}`}: ${reason}`,
      { details: { type: spec.type, path } },
    );
  const parse = (data: unknown): Data => {
    const proto = findProtoKey(data);
    if (proto !== undefined) throw inexact(proto, 'has a "__proto__" key, which is refused');
    const result = schema.safeParse(data);
    if (result.success) {
      const found = findInexactJson(result.data);
      if (found === undefined) return result.data;
      throw inexact(found.path, found.reason);
    }
    const issue = result.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
    throw new ChronicleError(
      "validation",
      `${spec.type} v${version}: data.${path}: ${issue?.message ?? "invalid"}`,
      {
        details: {
          type: spec.type,
          path,
          issues: result.error.issues.map((i) => ({
            path: i.path.map(String).join("."),
            message: i.message,
          })),
        },
      },
    );
  };

  return {
    type: spec.type,
    version,
    schema,
    create: (data) => ({ type: spec.type, data: parse(data) }),
    parse,
    upcast(from, data) {
      if (from === version) return data as Data;
      if (!Number.isInteger(from) || from < 1 || from > version) return undefined;
      let current = data;
      for (let v = from; v < version; v++) current = upcasters[v]!(current);
      return current as Data;
    },
    is: (event): event is RecordedEvent<Data, Type> => event.type === spec.type,
    ...(spec.invert ? { invert: spec.invert } : {}),
  };
}

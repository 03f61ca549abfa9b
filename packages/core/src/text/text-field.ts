// Collaborative text as events: each edit is an event carrying a Yjs update, so concurrent
// edits merge character-wise in whatever order events arrive, and every device folds the same
// text. The folded state stays JSON (a merged base update + the updates since, + the string),
// so it persists, snapshots and syncs like any state; a Y.Doc per field is cached beside it.
import * as Y from "yjs";
import { z } from "zod";
import { type Decider, defineDecider } from "../decider/define-decider.ts";
import { ChronicleError } from "../errors.ts";
import { defineEvent, type EventDefinition, type EventInput } from "../events/define-event.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { defineProjection, type Projection } from "../projection/define-projection.ts";
import { fromBase64, isBase64, toBase64 } from "./base64.ts";

/**
 * One text field's folded state: JSON, cloneable, snapshot-friendly. The string itself is
 * materialized on `read` (and cached), so folding an edit never copies the whole text.
 */
export interface TextFieldState {
  /** All updates up to the last compaction, merged (base64). */
  base: string;
  /** Updates since the last compaction (base64), in fold order. */
  pending: string[];
}

/** Every field of one text-field type in a stream, by key (e.g. card id). */
export interface TextFieldsState {
  /** Each field's state, by key; a field never edited is absent. */
  fields: Record<string, TextFieldState>;
}

/** The data of a text edit event, and the edit command. */
export interface TextEditData {
  /** Which field: usually the id of the entity the text belongs to. */
  key: string;
  /** A Yjs update (base64). */
  update: string;
}

/** What {@link defineTextField} takes. */
export interface TextFieldOptions<Type extends string> {
  /** The event type, e.g. `"card.description.edited"`. */
  type: Type;
  /** Merge the pending updates into `base` every N edits of a field. @default 500 */
  compactEvery?: number;
}

/** A collaborative text field type: its edit event, decider, projection and Yjs helpers. */
export interface TextField<Type extends string = string> {
  /** The edit event (data: `{ key, update }`), with an inverse for undo. */
  readonly event: EventDefinition<Type, TextEditData>;
  /** A decider for edit commands `{ key, update }` (name: the event type). */
  readonly decider: Decider<
    TextEditData,
    TextFieldsState,
    readonly [EventDefinition<Type, TextEditData>]
  >;
  /** A projection materializing every field of the stream (name: `${type}:text`). */
  projection(options?: {
    name?: string;
    snapshotEvery?: number;
  }): Projection<TextFieldsState, readonly [EventDefinition<Type, TextEditData>]>;
  /**
   * Runs `edit` on the field's Y.Text in `doc` and returns the event input carrying exactly
   * that change, or `undefined` when nothing changed.
   */
  edit(
    doc: Y.Doc,
    key: string,
    edit: (text: Y.Text) => void,
  ): EventInput<Type, TextEditData> | undefined;
  /** The text of a field (empty when it was never edited); cached per state. */
  read(state: TextFieldsState, key: string): string;
  /** A fresh Y.Doc holding the field, for an editor binding (`doc.getText("text")`). */
  doc(state: TextFieldsState, key: string): Y.Doc;
  /**
   * Merges the field's updates in `state` into a long-lived `doc` (one an editor is bound to),
   * in one transaction with `origin`; Yjs skips what the doc holds already, so local edits not
   * in the state yet survive. Cheap when called with each newer state: only what was appended
   * since the last merge into this doc is applied.
   */
  merge(doc: Y.Doc, state: TextFieldsState, key: string, origin?: unknown): void;
  /** The edit command for raw Yjs updates of the field (what `doc.on("update")` reports). */
  editOf(key: string, updates: readonly Uint8Array[]): TextEditData;
}

const TEXT = "text";
const empty: TextFieldState = { base: "", pending: [] };
/** Per live doc and field: the base last merged and the updates since that it holds. */
const merged = new WeakMap<Y.Doc, Map<string, { base: string; updates: Set<string> }>>();

/**
 * Declares a collaborative text field whose edits are events carrying Yjs updates.
 *
 * @example
 * const description = defineTextField({ type: "card.description.edited" });
 * const doc = description.doc(state, "c1");
 * const input = description.edit(doc, "c1", (text) => text.insert(0, "Hello "));
 * if (input) await handle("board:1", input.data); // handle = createCommandHandler(store, description.decider)
 * description.read(await runner.read(description.projection(), "board:1"), "c1"); // "Hello ..."
 */
export function defineTextField<const Type extends string>(
  options: TextFieldOptions<Type>,
): TextField<Type> {
  const compactEvery = options.compactEvery ?? 500;
  // The Y.Doc behind each field state this module produced, so a fold applies one update
  // instead of rebuilding; keyed by the state object itself, so a cloned or foreign state
  // (loaded from storage, another device) is rebuilt from its base and pending updates.
  const docs = new WeakMap<TextFieldState, Y.Doc>();
  const texts = new WeakMap<TextFieldState, string>();

  const docOf = (field: TextFieldState): Y.Doc => {
    const cached = docs.get(field);
    if (cached) return cached;
    const doc = new Y.Doc();
    if (field.base) Y.applyUpdate(doc, fromBase64(field.base));
    for (const update of field.pending) Y.applyUpdate(doc, fromBase64(update));
    return doc;
  };

  const applyEdit = (state: TextFieldsState, data: TextEditData): TextFieldsState => {
    const field = state.fields[data.key] ?? empty;
    const doc = docOf(field);
    docs.delete(field); // the doc moves on to the next state object
    Y.applyUpdate(doc, fromBase64(data.update));
    let next: TextFieldState;
    if (field.pending.length + 1 >= compactEvery) {
      next = {
        base: toBase64(Y.encodeStateAsUpdate(doc)),
        pending: [],
      };
    } else {
      next = {
        base: field.base,
        pending: [...field.pending, data.update],
      };
    }
    docs.set(next, doc);
    return { fields: { ...state.fields, [data.key]: next } };
  };

  const event = defineEvent({
    type: options.type,
    schema: z.object({
      key: z.string().min(1).max(256),
      update: z.string().min(1).refine(isBase64, "must be base64"),
    }),
    // Yjs' own undo: replay the edit on the text as it was, undo it with a Y.UndoManager, and
    // ship what the undo changed as a new update. It applies to the current text too, because
    // Yjs operations name the characters they touch, not offsets.
    invert: ({ data }, { before }: { before: TextFieldsState }) => {
      const doc = docOf(before.fields[data.key] ?? empty);
      const replay = new Y.Doc();
      Y.applyUpdate(replay, Y.encodeStateAsUpdate(doc));
      const origin = { replay: true };
      const undo = new Y.UndoManager(replay.getText(TEXT), {
        trackedOrigins: new Set([origin]),
        captureTimeout: 0,
      });
      Y.applyUpdate(replay, fromBase64(data.update), origin);
      let inverse: Uint8Array | undefined;
      replay.on("update", (update: Uint8Array, by: unknown) => {
        if (by === undo) inverse = inverse ? Y.mergeUpdates([inverse, update]) : update;
      });
      undo.undo();
      undo.destroy();
      if (!inverse) return { skip: "the edit changed nothing that can be undone" };
      return { type: options.type, data: { key: data.key, update: toBase64(inverse) } };
    },
  }) as EventDefinition<Type, TextEditData>;

  const fold = (state: TextFieldsState, recorded: RecordedEvent<TextEditData>) =>
    applyEdit(state, recorded.data);

  const decider = defineDecider({
    name: options.type,
    events: [event] as const,
    initialState: { fields: {} } as TextFieldsState,
    evolve: fold,
    decide: (command: TextEditData) => {
      try {
        Y.decodeUpdate(fromBase64(command.update));
      } catch (cause) {
        throw new ChronicleError("validation", "update is not a Yjs update", {
          cause,
          details: { path: "update" },
        });
      }
      return event.create(command);
    },
  });

  return {
    event,
    decider,
    projection: (projectionOptions = {}) =>
      defineProjection({
        name: projectionOptions.name ?? `${options.type}:text`,
        events: [event] as const,
        initialState: { fields: {} } as TextFieldsState,
        handlers: { [options.type]: fold } as never,
        ...(projectionOptions.snapshotEvery === undefined
          ? {}
          : { snapshotEvery: projectionOptions.snapshotEvery }),
      }),
    edit(doc, key, edit) {
      // Capture exactly what this edit changed (a state-vector diff would also carry the
      // document's whole delete set).
      let change: Uint8Array | undefined;
      const capture = (update: Uint8Array) => {
        change = change ? Y.mergeUpdates([change, update]) : update;
      };
      doc.on("update", capture);
      try {
        doc.transact(() => edit(doc.getText(TEXT)));
      } finally {
        doc.off("update", capture);
      }
      if (!change) return undefined;
      return { type: options.type, data: { key, update: toBase64(change) } };
    },
    read(state, key) {
      const field = state.fields[key];
      if (!field) return "";
      let text = texts.get(field);
      if (text === undefined) {
        const doc = docOf(field);
        docs.set(field, doc);
        text = doc.getText(TEXT).toString();
        texts.set(field, text);
      }
      return text;
    },
    doc(state, key) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(docOf(state.fields[key] ?? empty)));
      return doc;
    },
    merge(doc, state, key, origin) {
      const field = state.fields[key];
      if (!field) return;
      const seen = merged.get(doc) ?? new Map<string, { base: string; updates: Set<string> }>();
      merged.set(doc, seen);
      const last = seen.get(key);
      // The same base (no compaction since): only the updates not merged yet. Not "the ones
      // after the last count": a rebase reorders pending edits among confirmed ones.
      const fresh =
        last && last.base === field.base
          ? field.pending.filter((update) => !last.updates.has(update))
          : [...(field.base ? [field.base] : []), ...field.pending];
      seen.set(key, { base: field.base, updates: new Set(field.pending) });
      if (fresh.length === 0) return;
      doc.transact(() => {
        for (const update of fresh) Y.applyUpdate(doc, fromBase64(update), origin);
      }, origin);
    },
    editOf(key, updates) {
      if (updates.length === 0) {
        throw new ChronicleError("validation", "an edit needs at least one update", {
          details: { path: "update" },
        });
      }
      const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates([...updates]);
      return { key, update: toBase64(update) };
    },
  };
}

// A live Y.Doc for one collaborative text field, kept in step with the store: what the doc's
// user (an editor binding) changes becomes edit commands, and newer states of the field's
// projection (this tab's commands, other tabs, other devices through sync) merge into it.
// Invariants:
// 1. Updates the binding merges from the store carry its own origin and are never sent back.
// 2. Local updates are sent as commands one at a time, in order; what changes while one is in
//    flight goes into the next (a burst of keystrokes is one event, nothing is lost).
// 3. Yjs merges by identity, not offsets: a state that does not hold the local edits yet (the
//    command is in flight) leaves them in the doc.
import { type ChronicleError, type Projection, toChronicleError } from "@chronicle/core";
import type { TextEditData, TextField, TextFieldsState } from "@chronicle/core/text";
import type { Chronicle } from "./chronicle-types.ts";

type TextDoc = ReturnType<TextField["doc"]>;

/** What {@link bindTextDoc} binds: one field of one stream. */
export interface TextDocOptions<Type extends string = string> {
  /** The field (`defineTextField`); its decider and projection are registered in the worker. */
  field: TextField<Type>;
  /** The stream the field's edits are written to. */
  stream: string;
  /** Which field of the stream (e.g. the card id). */
  key: string;
  /** The field's projection as registered in the worker. @default field.projection() */
  projection?: Projection<TextFieldsState, any>;
  /** A local edit the store refused (the doc then holds text the log does not). */
  onError?: (error: ChronicleError) => void;
}

/** A live Y.Doc bound to a text field (see {@link bindTextDoc}). */
export interface TextDocBinding {
  /** The live doc: bind an editor to `doc.getText("text")`. */
  readonly doc: TextDoc;
  /** Resolves once every local change so far is stored (or refused). */
  settled(): Promise<void>;
  /**
   * Keeps the store's newer states out of the doc until the returned function is called, which
   * merges the latest one: for an editor that must not change under an open IME composition.
   * Local changes are still sent meanwhile.
   */
  hold(): () => void;
  /** Stops following the store and sending edits (the doc stays usable, detached). */
  destroy(): void;
}

/**
 * Binds a live Y.Doc to a text field of a stream.
 *
 * @example
 * const description = defineTextField({ type: "card.description.edited" });
 * const { doc, destroy } = bindTextDoc(chronicle, { field: description, stream: "board:1", key: "c1" });
 * new QuillBinding(doc.getText("text"), quill); // or any Yjs editor binding
 */
export function bindTextDoc<Type extends string>(
  chronicle: Pick<Chronicle, "subscribe" | "execute">,
  options: TextDocOptions<Type>,
): TextDocBinding {
  const { field, stream, key } = options;
  const projection = options.projection ?? field.projection();
  const fromStore = { chronicle: true }; // the origin of merged updates
  const mergeKey = `text:${field.decider.name}:${key}`;
  const doc = field.doc({ fields: {} }, key);
  let queue: Uint8Array[] = [];
  let sending: Promise<void> | undefined;
  let destroyed = false;

  const send = async (): Promise<void> => {
    while (queue.length > 0 && !destroyed) {
      const updates = queue;
      queue = [];
      const data: TextEditData = field.editOf(key, updates);
      try {
        // Keystrokes into one field merge into one undo step (inside the capture window).
        await chronicle.execute(stream, field.decider, data, { mergeKey });
      } catch (error) {
        options.onError?.(toChronicleError(error));
      }
    }
    sending = undefined;
  };
  const onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin === fromStore || destroyed) return;
    queue.push(update);
    sending ??= send();
  };
  doc.on("update", onUpdate);
  let holds = 0;
  let held: TextFieldsState | undefined; // the latest state that arrived during a hold
  const stop = chronicle.subscribe(projection, stream, (state: TextFieldsState) => {
    if (destroyed) return;
    if (holds > 0) held = state;
    else field.merge(doc, state, key, fromStore);
  });

  return {
    doc,
    async settled() {
      while (sending) await sending;
    },
    hold() {
      holds++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds--;
        if (holds > 0 || destroyed || !held) return;
        const state = held;
        held = undefined;
        field.merge(doc, state, key, fromStore);
      };
    },
    destroy() {
      destroyed = true;
      doc.off("update", onUpdate);
      stop();
    },
  };
}

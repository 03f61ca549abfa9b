// Binds a <textarea> to one collaborative text field. The binding's Y.Doc is the source of truth
// for the textarea:
// 1. Every input is diffed against the doc's text and applied to the doc at once (synchronously),
//    so the next keystroke is diffed against a doc that already holds the previous one.
// 2. The changes are sent as edit commands one at a time, in order; what is typed while one is in
//    flight is merged into the next command (fast typing makes fewer events, and loses nothing).
// 3. States from the projection (this device's commands, other tabs, other devices via sync) are
//    merged into the doc; Yjs ignores what the doc has already, so local edits that are not in
//    the state yet survive. The caret follows the characters it was next to (relative positions).
import type { TextEditData, TextField, TextFieldsState } from "@chronicle/core/text";
import * as Y from "yjs";

export interface TextareaBinding {
  /** Merges a newer state of the field (from the projection) into the textarea. */
  applyState(state: TextFieldsState): void;
  /** Stops listening to the textarea. */
  destroy(): void;
}

export interface BindTextareaOptions {
  textarea: HTMLTextAreaElement;
  field: Pick<TextField, "doc" | "edit">;
  /** Which field of the state (the card id). */
  key: string;
  /** The field's state when the binding starts (undefined: not loaded yet, start empty). */
  state: TextFieldsState | undefined;
  /** Runs the edit command; resolves false when it was refused (the doc then resets). */
  send: (data: TextEditData) => Promise<boolean>;
}

const emptyState: TextFieldsState = { fields: {} };
const fromState = { fromState: true }; // the origin of updates merged from the projection

/**
 * Keeps `textarea` and the text field `key` in step (see the invariants above).
 *
 * @example
 * const binding = bindTextarea({ textarea, field: description, key: cardId, state,
 *   send: async (data) => (await command.execute(STREAM, data)) !== undefined });
 * chronicle.subscribe(descriptionView, STREAM, (next) => binding.applyState(next));
 */
export function bindTextarea(options: BindTextareaOptions): TextareaBinding {
  const { textarea, field, key } = options;
  let lastState = options.state ?? emptyState;
  let doc = field.doc(lastState, key);
  let queue: string[] = []; // updates (base64) applied to the doc and not sent yet
  let sending = false;
  let composing = false; // an IME composition is open: merge remote text after it ends
  let deferred = false;
  textarea.value = doc.getText("text").toString();

  const flush = () => {
    if (sending || queue.length === 0) return;
    sending = true;
    const updates = queue;
    queue = [];
    const update = updates.length === 1 ? updates[0]! : mergeBase64(updates);
    const sentDoc = doc;
    void options
      .send({ key, update })
      .catch(() => false)
      .then((accepted) => {
        sending = false;
        // Refused (e.g. storage full): the doc holds text the log does not. Start over from the
        // last state, dropping what was typed on top of the refused change.
        if (!accepted && doc === sentDoc) reset();
        flush();
      });
  };

  const reset = () => {
    doc = field.doc(lastState, key);
    queue = [];
    replaceValue(doc.getText("text").toString(), undefined);
  };

  const onInput = () => {
    const text = doc.getText("text");
    const before = text.toString();
    const after = textarea.value;
    if (before === after) return;
    const change = diffText(before, after, textarea.selectionEnd);
    const input = field.edit(doc, key, (ytext) => {
      if (change.remove > 0) ytext.delete(change.index, change.remove);
      if (change.insert) ytext.insert(change.index, change.insert);
    });
    if (!input) return;
    queue.push(input.data.update);
    flush();
  };

  const merge = () => {
    const text = doc.getText("text");
    // Stick to the character left of each end: a caret after what you typed stays after it.
    const start = Y.createRelativePositionFromTypeIndex(text, textarea.selectionStart, -1);
    const end = Y.createRelativePositionFromTypeIndex(text, textarea.selectionEnd, -1);
    const incoming = field.doc(lastState, key);
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(incoming, Y.encodeStateVector(doc)), fromState);
    incoming.destroy();
    const next = text.toString();
    if (next === textarea.value) return;
    const at = (position: Y.RelativePosition) =>
      Y.createAbsolutePositionFromRelativePosition(position, doc)?.index ?? next.length;
    replaceValue(next, { start: at(start), end: at(end) });
  };

  const replaceValue = (value: string, selection: { start: number; end: number } | undefined) => {
    const direction = textarea.selectionDirection;
    textarea.value = value; // moves the caret to the end: put it back
    if (selection) textarea.setSelectionRange(selection.start, selection.end, direction);
  };

  const onCompositionStart = () => {
    composing = true;
  };
  const onCompositionEnd = () => {
    composing = false;
    if (deferred) {
      deferred = false;
      merge();
    }
  };

  textarea.addEventListener("input", onInput);
  textarea.addEventListener("compositionstart", onCompositionStart);
  textarea.addEventListener("compositionend", onCompositionEnd);
  return {
    applyState(state) {
      lastState = state;
      if (composing) deferred = true;
      else merge();
    },
    destroy() {
      textarea.removeEventListener("input", onInput);
      textarea.removeEventListener("compositionstart", onCompositionStart);
      textarea.removeEventListener("compositionend", onCompositionEnd);
    },
  };
}

/**
 * The one changed range between two texts, placed so that it ends at the caret when that is
 * ambiguous (typing "a" after the first "a" of "aa" inserts at 1, not 2), and never splitting
 * a surrogate pair (Yjs would encode a lone half as U+FFFD).
 */
export function diffText(
  before: string,
  after: string,
  caret: number,
): { index: number; remove: number; insert: string } {
  let suffix = 0;
  const maxSuffix = Math.min(before.length, after.length, Math.max(0, after.length - caret));
  while (
    suffix < maxSuffix &&
    before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)
  )
    suffix++;
  let prefix = 0;
  const maxPrefix = Math.min(before.length, after.length) - suffix;
  while (prefix < maxPrefix && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  if (prefix > 0 && isHighSurrogate(before.charCodeAt(prefix - 1))) prefix--;
  if (suffix > 0 && isLowSurrogate(before.charCodeAt(before.length - suffix))) suffix--;
  return {
    index: prefix,
    remove: before.length - prefix - suffix,
    insert: after.slice(prefix, after.length - suffix),
  };
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

function mergeBase64(updates: string[]): string {
  const merged = Y.mergeUpdates(
    updates.map((update) => Uint8Array.from(atob(update), (char) => char.charCodeAt(0))),
  );
  let binary = "";
  for (const byte of merged) binary += String.fromCharCode(byte);
  return btoa(binary);
}

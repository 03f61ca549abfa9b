// Binds a <textarea> to one collaborative text field, through the library's live Y.Doc
// (`bindTextDoc`: it sends the doc's changes as edit commands, one at a time, and merges the
// store's newer states in). This file only keeps the textarea and that doc equal:
// 1. Every input is diffed against the doc's text and applied to the doc at once (synchronously),
//    so the next keystroke is diffed against a doc that already holds the previous one.
// 2. A change from the store (this device's commands, other tabs, other devices via sync)
//    rewrites the textarea, and the caret follows the characters it was next to (relative
//    positions taken just before the change).
// 3. While an IME composition is open the store's states are held back (rewriting the textarea
//    would cancel it), and merged when it ends.
// 4. A refused edit (storage full) leaves the doc with text the log does not have: the binding
//    starts over from the store, dropping what was typed on top of it.
import { bindTextDoc, type Chronicle, type TextDocOptions } from "@chronicle/browser";
import type { ChronicleError } from "@chronicle/core";
import * as Y from "yjs";

export interface TextareaBinding {
  /** Resolves once everything typed so far is stored (or refused). */
  settled(): Promise<void>;
  /** Stops listening to the textarea and to the store. */
  destroy(): void;
}

export interface BindTextareaOptions<Type extends string> extends TextDocOptions<Type> {
  textarea: HTMLTextAreaElement;
}

/** The origin of the doc changes typed into the textarea. */
const typed = { textarea: true };

/**
 * Keeps `textarea` and the text field `key` of `stream` in step (see the invariants above).
 *
 * @example
 * const binding = bindTextarea(chronicle, {
 *   textarea,
 *   field: description,
 *   projection: descriptionView,
 *   stream: STREAM,
 *   key: cardId,
 *   onError: (error) => setError(error.message),
 * });
 */
export function bindTextarea<Type extends string>(
  chronicle: Pick<Chronicle, "subscribe" | "execute">,
  options: BindTextareaOptions<Type>,
): TextareaBinding {
  const { textarea } = options;
  let live = bind();
  let release: (() => void) | undefined; // set while an IME composition is open

  function bind() {
    const binding = bindTextDoc(chronicle, { ...options, onError: refused });
    const text = binding.doc.getText("text");
    let caret: { start: Y.RelativePosition; end: Y.RelativePosition } | undefined;
    // Where the caret is, by the characters around it, before the store changes the text.
    // Stick to the character left of each end: a caret after what you typed stays after it.
    binding.doc.on("beforeTransaction", (transaction: Y.Transaction) => {
      if (transaction.origin === typed) return;
      caret = {
        start: Y.createRelativePositionFromTypeIndex(text, textarea.selectionStart, -1),
        end: Y.createRelativePositionFromTypeIndex(text, textarea.selectionEnd, -1),
      };
    });
    binding.doc.on("afterTransaction", (transaction: Y.Transaction) => {
      if (transaction.origin === typed || !caret) return;
      const value = text.toString();
      const at = (position: Y.RelativePosition) =>
        Y.createAbsolutePositionFromRelativePosition(position, binding.doc)?.index ?? value.length;
      if (value !== textarea.value)
        replaceValue(value, { start: at(caret.start), end: at(caret.end) });
      caret = undefined;
    });
    replaceValue(text.toString(), undefined);
    return { binding, text };
  }

  function refused(error: ChronicleError) {
    options.onError?.(error);
    live.binding.destroy();
    live = bind();
    if (release) release = live.binding.hold();
  }

  function replaceValue(value: string, selection: { start: number; end: number } | undefined) {
    const direction = textarea.selectionDirection;
    textarea.value = value; // moves the caret to the end: put it back
    if (selection) textarea.setSelectionRange(selection.start, selection.end, direction);
  }

  const onInput = () => {
    const { binding, text } = live;
    const before = text.toString();
    const after = textarea.value;
    if (before === after) return;
    const change = diffText(before, after, textarea.selectionEnd);
    binding.doc.transact(() => {
      if (change.remove > 0) text.delete(change.index, change.remove);
      if (change.insert) text.insert(change.index, change.insert);
    }, typed);
  };
  const onCompositionStart = () => {
    release ??= live.binding.hold();
  };
  const onCompositionEnd = () => {
    const held = release;
    release = undefined;
    held?.();
  };

  textarea.addEventListener("input", onInput);
  textarea.addEventListener("compositionstart", onCompositionStart);
  textarea.addEventListener("compositionend", onCompositionEnd);
  return {
    async settled() {
      let current: typeof live;
      do {
        current = live;
        await current.binding.settled();
      } while (current !== live);
    },
    destroy() {
      textarea.removeEventListener("input", onInput);
      textarea.removeEventListener("compositionstart", onCompositionStart);
      textarea.removeEventListener("compositionend", onCompositionEnd);
      live.binding.destroy();
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

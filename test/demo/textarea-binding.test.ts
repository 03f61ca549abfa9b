// @vitest-environment happy-dom
// The demo's textarea binding on real parts without a browser: happy-dom's <textarea> (typing is
// simulated as the browser does it: value, caret, then an input event), and per device a browser
// Chronicle whose worker host sits on a MessageChannel, over fake-indexeddb, synced through
// @chronicle/sync's in-memory node.
import { type Chronicle, createChronicle } from "@chronicle/browser";
import { hostChronicle } from "@chronicle/browser/worker";
import { ChronicleError } from "@chronicle/core";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { STREAM } from "../../demo/src/board.ts";
import { description, descriptionView } from "../../demo/src/description.ts";
import { bindTextarea, diffText, type TextareaBinding } from "../../demo/src/textarea-binding.ts";

// happy-dom's navigator.locks is null; the worker host looks for Web Locks only when defined.
Object.defineProperty(navigator, "locks", { value: undefined, configurable: true });

const KEY = "card-1";
let databases = 0;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A device: its Chronicle (synced through `node` when given), a textarea bound to the card. */
async function device(
  options: {
    node?: MemoryNode;
    bindTo?: (chronicle: Chronicle) => Pick<Chronicle, "subscribe" | "execute">;
  } = {},
) {
  const { port1, port2 } = new MessageChannel();
  let engine: SyncEngine | undefined;
  hostChronicle(
    {
      name: `demo-textarea-${++databases}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [description.decider],
      projections: [descriptionView],
      ...(options.node && {
        sync: createSyncStarter({
          transport: createLoopbackTransport(options.node),
          streams: [STREAM],
          followNetwork: false,
          onEngine: (created) => {
            engine = created;
          },
        }),
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  const textarea = document.createElement("textarea");
  document.body.append(textarea);
  const errors: string[] = [];
  const binding: TextareaBinding = bindTextarea(options.bindTo?.(chronicle) ?? chronicle, {
    textarea,
    field: description,
    projection: descriptionView,
    stream: STREAM,
    key: KEY,
    onError: (error) => errors.push(error.code),
  });
  cleanups.push(async () => {
    binding.destroy();
    textarea.remove();
    await chronicle.close();
    port1.close();
  });
  /** The description as stored on this device (with sync: confirmed and pending). */
  const stored = async () => description.read(await chronicle.load(descriptionView, STREAM), KEY);
  return { chronicle, textarea, binding, errors, stored, engine: () => engine! };
}

/** Types `text` one character at a time at `at` (default: the caret), as a browser does. */
function type(textarea: HTMLTextAreaElement, text: string, at = textarea.selectionEnd) {
  for (const char of text) {
    textarea.value = textarea.value.slice(0, at) + char + textarea.value.slice(at);
    at += char.length;
    textarea.setSelectionRange(at, at);
    textarea.dispatchEvent(new Event("input"));
  }
}

describe("diffText", () => {
  it("finds the one changed range, ending at the caret when ambiguous", () => {
    expect(diffText("abc", "abXc", 3)).toEqual({ index: 2, remove: 0, insert: "X" });
    expect(diffText("aa", "aaa", 2)).toEqual({ index: 1, remove: 0, insert: "a" });
    expect(diffText("abb", "ab", 1)).toEqual({ index: 1, remove: 1, insert: "" });
    expect(diffText("hello world", "hello there", 11)).toEqual({
      index: 6,
      remove: 5,
      insert: "there",
    });
  });

  it("never splits a surrogate pair", () => {
    expect(diffText("😀", "😃", 2)).toEqual({ index: 0, remove: 2, insert: "😃" });
    expect(diffText("a😀b", "ab", 1)).toEqual({ index: 1, remove: 2, insert: "" });
  });
});

describe("bindTextarea", () => {
  it("merges edits typed offline on two devices at different places, keeping each caret by its characters", async () => {
    const node = new MemoryNode();
    const a = await device({ node });
    const b = await device({ node });
    type(a.textarea, "The plan.");
    await a.binding.settled();
    await expect.poll(() => b.textarea.value).toBe("The plan.");

    a.engine().setOnline(false);
    b.engine().setOnline(false);
    type(a.textarea, "Draft: ", 0);
    type(b.textarea, " Ship Friday.", b.textarea.value.length);
    await Promise.all([a.binding.settled(), b.binding.settled()]);
    expect(a.textarea.value).toBe("Draft: The plan.");
    expect(b.textarea.value).toBe("The plan. Ship Friday.");

    a.engine().setOnline(true);
    b.engine().setOnline(true);
    const merged = "Draft: The plan. Ship Friday.";
    await expect.poll(() => a.textarea.value).toBe(merged);
    await expect.poll(() => b.textarea.value).toBe(merged);
    expect([a.textarea.selectionStart, a.textarea.selectionEnd]).toEqual([7, 7]);
    expect(b.textarea.selectionEnd).toBe(merged.length);
    expect(await a.stored()).toBe(merged);
  });

  it("loses nothing typed while a command is in flight, and sends it as one edit", async () => {
    const a = await device();
    type(a.textarea, "fast"); // "f" goes out at once; "ast" is typed while it is in flight
    await a.binding.settled();
    expect(a.textarea.value).toBe("fast");
    expect(await a.stored()).toBe("fast");
    expect(await a.chronicle.readStream(STREAM)).toHaveLength(2);
  });

  it("starts over from the stored text when an edit is refused, and keeps working", async () => {
    let refuse = false;
    const a = await device({
      bindTo: (chronicle) => ({
        subscribe: (projection, stream, listener) =>
          chronicle.subscribe(projection, stream, listener),
        execute: (stream, decider, command, options) =>
          refuse
            ? Promise.reject(new ChronicleError("quota", "the storage is full"))
            : chronicle.execute(stream, decider, command, options),
      }),
    });
    type(a.textarea, "kept");
    await a.binding.settled();
    refuse = true;
    type(a.textarea, " lost");
    await a.binding.settled();
    expect(a.errors).toEqual(["quota"]);
    expect(a.textarea.value).toBe("kept");
    refuse = false;
    type(a.textarea, "!", a.textarea.value.length);
    await a.binding.settled();
    expect(a.textarea.value).toBe("kept!");
    expect(await a.stored()).toBe("kept!");
  });

  it("holds the store's text back while an IME composition is open, and merges it at the end", async () => {
    const node = new MemoryNode();
    const a = await device({ node });
    const b = await device({ node });
    type(a.textarea, "Hello");
    await a.binding.settled();
    await expect.poll(() => b.textarea.value).toBe("Hello");

    b.textarea.focus();
    b.textarea.setSelectionRange(5, 5);
    b.textarea.dispatchEvent(new Event("compositionstart"));
    type(b.textarea, "日本");
    type(a.textarea, "Oh, ", 0);
    await a.binding.settled();
    await expect.poll(() => b.stored()).toBe("Oh, Hello日本"); // it reached b's store...
    expect(b.textarea.value).toBe("Hello日本"); // ...not b's textarea
    b.textarea.dispatchEvent(new Event("compositionend"));
    expect(b.textarea.value).toBe("Oh, Hello日本");
    expect(b.textarea.selectionEnd).toBe("Oh, Hello日本".length);
    await b.binding.settled();
    await expect.poll(() => a.textarea.value).toBe("Oh, Hello日本");
  });
});

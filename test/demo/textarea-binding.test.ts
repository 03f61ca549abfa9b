// The demo's textarea binding without a browser: a fake textarea (value, selection, input
// events), the description field's projection folded by hand, and sends we resolve ourselves.
import type { TextEditData, TextFieldsState } from "@chronicle/core/text";
import { describe, expect, it } from "vitest";
import { description, descriptionView } from "../../demo/src/description.ts";
import { bindTextarea, diffText } from "../../demo/src/textarea-binding.ts";

class FakeTextarea extends EventTarget {
  #value = "";
  selectionStart = 0;
  selectionEnd = 0;
  selectionDirection: "forward" | "backward" | "none" = "none";
  get value() {
    return this.#value;
  }
  set value(value: string) {
    this.#value = value; // like a browser: assigning moves the caret to the end
    this.selectionStart = this.selectionEnd = value.length;
  }
  setSelectionRange(start: number, end: number) {
    this.selectionStart = start;
    this.selectionEnd = end;
  }
  /** The user types `text` at `at` (or at the caret). */
  type(text: string, at = this.selectionEnd) {
    this.#value = this.#value.slice(0, at) + text + this.#value.slice(at);
    this.selectionStart = this.selectionEnd = at + text.length;
    this.dispatchEvent(new Event("input"));
  }
}

/** One device: its textarea, its binding, and the edits it has sent (its local log). */
function device(key: string, state?: TextFieldsState) {
  const textarea = new FakeTextarea();
  const sent: TextEditData[] = [];
  const binding = bindTextarea({
    textarea: textarea as unknown as HTMLTextAreaElement,
    field: description,
    key,
    state,
    send: async (data) => {
      sent.push(data);
      return true;
    },
  });
  return { textarea, sent, binding };
}

const fold = (...logs: TextEditData[][]) =>
  logs
    .flat()
    .reduce(
      (state, data) =>
        descriptionView.apply(state, { type: description.event.type, version: 1, data } as never),
      descriptionView.initialState,
    );

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
  it("merges edits made apart at different places, keeping each caret by its characters", async () => {
    const start = device("c1");
    start.textarea.type("The plan.");
    await Promise.resolve();
    const shared = fold(start.sent);
    const a = device("c1", shared);
    const b = device("c1", shared);
    a.textarea.type("Draft: ", 0);
    b.textarea.type(" Ship Friday.", b.textarea.value.length);
    await Promise.resolve();

    const merged = fold(start.sent, a.sent, b.sent);
    a.binding.applyState(merged);
    b.binding.applyState(merged);
    expect(a.textarea.value).toBe("Draft: The plan. Ship Friday.");
    expect(b.textarea.value).toBe(a.textarea.value);
    expect(description.read(merged, "c1")).toBe(a.textarea.value);
    expect(a.textarea.selectionEnd).toBe("Draft: ".length);
    expect(b.textarea.selectionEnd).toBe(b.textarea.value.length);
  });

  it("loses nothing typed while a command is in flight, and sends it as one edit", async () => {
    const textarea = new FakeTextarea();
    const sent: TextEditData[] = [];
    const inFlight: (() => void)[] = [];
    const binding = bindTextarea({
      textarea: textarea as unknown as HTMLTextAreaElement,
      field: description,
      key: "c1",
      state: undefined,
      send: (data) =>
        new Promise((resolve) => {
          sent.push(data);
          inFlight.push(() => resolve(true));
        }),
    });
    for (const char of "fast") textarea.type(char);
    expect(sent).toHaveLength(1); // "f"; "ast" waits for it
    binding.applyState(fold(sent)); // a state with only "f" arrives meanwhile
    expect(textarea.value).toBe("fast");
    inFlight.shift()!();
    await expect.poll(() => sent.length).toBe(2);
    expect(description.read(fold(sent), "c1")).toBe("fast");
    inFlight.shift()!();
  });

  it("resets to the stored text when a command is refused", async () => {
    const textarea = new FakeTextarea();
    const stored = device("c1");
    stored.textarea.type("kept");
    await Promise.resolve();
    const binding = bindTextarea({
      textarea: textarea as unknown as HTMLTextAreaElement,
      field: description,
      key: "c1",
      state: fold(stored.sent),
      send: async () => false,
    });
    textarea.type(" lost");
    await expect.poll(() => textarea.value).toBe("kept");
    binding.destroy();
  });
});

// Exact data at the node's door: pushed frames and HTTP bodies are stored exactly as sent, or
// refused with validation and the path (the checks are core's exact-json.ts).
import { createEnvelope, isChronicleError } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { parseClientFrame, parsePushBody } from "./parse.ts";

const event = (data: unknown = { n: 1 }) =>
  createEnvelope("board:1", { type: "card.added", version: 1, data }, { actor: "a", device: "d" });

/** A push frame as text, with `data` spliced in as raw JSON text (what a hostile client sends). */
const pushText = (dataText: string, extra = "") => {
  const text = JSON.stringify({ t: "push", req: "r", events: [event("DATA")] });
  return text.replace('"data":"DATA"', `"data":${dataText}${extra}`);
};

function refusal(fn: () => unknown): { code: string; message: string; path: unknown } {
  try {
    fn();
  } catch (error) {
    if (isChronicleError(error)) {
      return { code: error.code, message: error.message, path: error.details.path };
    }
    throw error;
  }
  throw new Error("expected a coded error");
}

describe("pushed events are stored exactly as sent, or refused", () => {
  const hostile: Array<[name: string, text: string, path: string]> = [
    ["a __proto__ key", pushText('{"__proto__":{"a":1},"k":1}'), "events.0.data"],
    ["a nested __proto__ key", pushText('{"x":[{"__proto__":null}]}'), "events.0.data.x.0"],
    ["a duplicate key in data", pushText('{"k":1,"k":2}'), "events.0.data"],
    ["a duplicate envelope key", pushText("1", ',"type":"other"'), "events.0"],
    ["-0", pushText('{"n":-0}'), "events.0.data.n"],
    ["a number JSON cannot hold", pushText("[1e400]"), "events.0.data.0"],
    ["a lone surrogate", pushText('{"t":"\\ud800"}'), "events.0.data.t"],
    ["a lone surrogate in a key", pushText('{"\\udfff":1}'), "events.0.data"],
    ["a field outside the envelope", pushText("1", ',"extra":1'), "events.0.extra"],
    [
      "a field outside meta",
      JSON.stringify({
        t: "push",
        req: "r",
        events: [{ ...event(), meta: { ...event().meta, role: "admin" } }],
      }),
      "events.0.meta.role",
    ],
  ];
  for (const [name, text, path] of hostile) {
    it(`refuses ${name} with validation at ${path}, in frames and HTTP bodies`, () => {
      expect(refusal(() => parseClientFrame(text))).toMatchObject({ code: "validation", path });
      const body = text.replace('"t":"push","req":"r",', "");
      const over = refusal(() => parsePushBody(body));
      expect(over.code).toBe("validation");
      expect(String(over.path)).toBe(path);
    });
  }

  it("keeps everything exact JSON can hold", () => {
    const data = { s: "😀", n: [0, 1.5, -2, 1e-7, 2 ** 60], o: { "": null, a: true } };
    const frame = parseClientFrame(JSON.stringify({ t: "push", req: "r", events: [event(data)] }));
    expect(frame.t === "push" && JSON.stringify(frame.events[0]!.data)).toBe(JSON.stringify(data));
  });
});

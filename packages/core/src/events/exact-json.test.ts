// The exactness checks themselves (exact-json.ts); the node's use of them on pushed frames and
// bodies is tested with the protocol parser (@chronicle/sync, protocol/exact-data.test.ts).
import { describe, expect, it } from "vitest";
import { isChronicleError } from "../errors.ts";
import { assertExactJson, findInexactJson, scanJsonText } from "./exact-json.ts";

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

describe("findInexactJson", () => {
  it("accepts what JSON round-trips exactly", () => {
    for (const value of [
      null,
      true,
      0,
      -1.5,
      1e300,
      "",
      "emoji 😀 and é",
      [],
      [1, [2, { a: null }]],
      { a: { b: [1, "x"] } },
      Object.assign(Object.create(null), { k: 1 }),
    ]) {
      expect(findInexactJson(value)).toBeUndefined();
    }
  });

  it("names the path and the reason of what JSON would change or drop", () => {
    const cases: Array<[unknown, string]> = [
      [JSON.parse('{"__proto__":{"a":1},"k":1}'), "(root)"],
      [{ a: [1, -0] }, "a.1"],
      [{ a: Number.POSITIVE_INFINITY }, "a"],
      [{ a: Number.NaN }, "a"],
      [{ s: "\ud800" }, "s"],
      [{ s: "ok\udc00" }, "s"],
      [{ "\ud800": 1 }, "(root)"],
      [{ u: undefined }, "u"],
      [{ f: () => 1 }, "f"],
      [{ d: new Date(0) }, "d"],
      [{ m: new Map() }, "m"],
      [{ b: 1n }, "b"],
      [new Array(3).fill(1, 0, 1), "(root)"],
      [{ [Symbol("s")]: 1 }, "(root)"],
    ];
    for (const [value, path] of cases) {
      expect(findInexactJson(value), JSON.stringify(path)).toMatchObject({ path });
    }
  });

  it("refuses nesting deeper than 64 levels (and so cycles)", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(findInexactJson(cycle)?.reason).toMatch(/deeper than 64/);
  });

  it("throws validation with the path prefixed", () => {
    expect(refusal(() => assertExactJson({ x: -0 }, "data"))).toMatchObject({
      code: "validation",
      path: "data.x",
    });
  });
});

describe("scanJsonText", () => {
  it("finds the first duplicate key with its path, ignoring strings", () => {
    expect(scanJsonText('{"a":1,"b":{"c":[{"d":1,"d":2}]}}')).toEqual({
      depth: 4,
      duplicate: { path: "b.c.0", key: "d" },
    });
    expect(scanJsonText('{"a":"{\\"a\\":1,\\"a\\":2}","b":["a","a"]}')).toEqual({ depth: 2 });
    // An escaped key equals its plain spelling.
    expect(scanJsonText('{"a":1,"\\u0061":2}').duplicate).toEqual({ path: "(root)", key: "a" });
    expect(scanJsonText('[{"a":1},{"a":1}]').duplicate).toBeUndefined();
  });
});

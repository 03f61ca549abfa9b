import { describe, expect, it } from "vitest";
import { z } from "zod";
import { cardAdded } from "../__fixtures__/board.ts";
import { isChronicleError } from "../errors.ts";
import { defineEvent } from "./define-event.ts";
import { createEnvelope } from "./envelope.ts";
import { createEventRegistry } from "./registry.ts";

describe("defineEvent", () => {
  it("validates on create and names the failing field", () => {
    expect(cardAdded.create({ id: "c1", title: "A", column: "todo" })).toEqual({
      type: "card.added",
      data: { id: "c1", title: "A", column: "todo" },
    });
    try {
      cardAdded.create({ id: "c1", title: "", column: "todo" });
      expect.unreachable();
    } catch (error) {
      expect(isChronicleError(error, "validation")).toBe(true);
      expect((error as Error).message).toContain("data.title");
      expect((error as { details: { path: string } }).details.path).toBe("title");
    }
  });

  it("refuses data that would not read back the same after JSON, naming the path", () => {
    const noted = defineEvent({
      type: "note.added",
      schema: z.object({ n: z.number(), tags: z.record(z.string(), z.number()).optional() }),
    });
    const cases: Array<[unknown, string]> = [
      [{ n: -0 }, "n"],
      [{ n: 1, tags: JSON.parse('{"__proto__":1}') }, "tags"],
      [{ n: 1, tags: { "\ud800": 1 } }, "tags"],
    ];
    for (const [data, path] of cases) {
      try {
        noted.create(data as { n: number });
        expect.unreachable(path);
      } catch (error) {
        expect(isChronicleError(error, "validation"), path).toBe(true);
        expect((error as { details: { path: string } }).details.path).toBe(path);
        expect((error as Error).message).toContain(`note.added v1: data.${path}`);
      }
    }
    expect(noted.create({ n: 0, tags: { a: 1 } }).data).toEqual({ n: 0, tags: { a: 1 } });
  });

  it("upcasts each old version to the next, in order", () => {
    const renamed = defineEvent({
      type: "user.renamed",
      version: 3,
      schema: z.object({ first: z.string(), last: z.string(), source: z.string() }),
      upcasters: {
        1: (v1: { name: string }) => ({
          first: v1.name.split(" ")[0],
          last: v1.name.split(" ")[1],
        }),
        2: (v2: { first: string; last: string }) => ({ ...v2, source: "legacy" }),
      },
    });
    expect(renamed.upcast(1, { name: "Ada Lovelace" })).toEqual({
      first: "Ada",
      last: "Lovelace",
      source: "legacy",
    });
    expect(renamed.upcast(2, { first: "A", last: "B" })).toEqual({
      first: "A",
      last: "B",
      source: "legacy",
    });
    expect(renamed.upcast(3, { first: "A", last: "B", source: "x" })).toEqual({
      first: "A",
      last: "B",
      source: "x",
    });
    expect(renamed.upcast(4, {})).toBeUndefined();
  });

  it("refuses a definition missing an upcaster", () => {
    expect(() =>
      defineEvent({
        type: "x.happened",
        version: 3,
        schema: z.object({}),
        upcasters: { 1: (d) => d },
      }),
    ).toThrow(/upcaster from version 2/);
  });
});

describe("createEventRegistry", () => {
  const registry = createEventRegistry([cardAdded]);

  it("stamps the current version on validated input and refuses unknown types", () => {
    expect(
      registry.validate({ type: "card.added", data: { id: "c", title: "t", column: "x" } }).version,
    ).toBe(2);
    expect(() => registry.validate({ type: "card.flipped", data: {} })).toThrow(
      /unknown event type/,
    );
  });

  it("upcasts recorded events and passes unknown ones back as undefined, untouched", () => {
    const old = createEnvelope("b", {
      type: "card.added",
      version: 1,
      data: { id: "c", title: "t" },
    });
    expect(registry.upcast(old)).toMatchObject({
      version: 2,
      data: { id: "c", title: "t", column: "todo" },
    });
    expect(old.version).toBe(1);
    const future = createEnvelope("b", { type: "card.added", version: 9, data: { whatever: 1 } });
    expect(registry.upcast(future)).toBeUndefined();
    const unknown = createEnvelope("b", { type: "card.teleported", version: 1, data: {} });
    expect(registry.upcast(unknown)).toBeUndefined();
  });

  it("refuses the same type declared twice", () => {
    const clone = defineEvent({ type: "card.added", schema: z.object({}) });
    expect(() => createEventRegistry([cardAdded, clone])).toThrow(/declared twice/);
  });
});

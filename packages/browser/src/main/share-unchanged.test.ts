// Node tier: states from the worker keep the identity of their unchanged parts (what lets a
// memoised component skip its render), and nothing else about them changes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shareUnchanged } from "./share-unchanged.ts";

describe("shareUnchanged", () => {
  it("keeps the previous objects where the new state equals them, and the new ones where it changed", () => {
    const previous = {
      cards: { a: { title: "A", tags: ["x"] }, b: { title: "B", tags: [] } },
      order: ["a", "b"],
    };
    const next = structuredClone(previous);
    next.cards.b.title = "B2";
    const shared = shareUnchanged(previous, next);
    expect(shared).toEqual(next);
    expect(shared).not.toBe(previous);
    expect(shared.cards.a).toBe(previous.cards.a);
    expect(shared.order).toBe(previous.order);
    expect(shared.cards.b).toEqual({ title: "B2", tags: [] });
    expect(shared.cards.b).not.toBe(previous.cards.b);
    expect(shared.cards.b.tags).toBe(previous.cards.b.tags);
    // The previous state is left as it was.
    expect(previous.cards.b).toEqual({ title: "B", tags: [] });
  });

  it("answers the previous state itself when nothing changed", () => {
    const previous = { cards: [{ id: 1 }, { id: 2 }], count: 2 };
    expect(shareUnchanged(previous, structuredClone(previous))).toBe(previous);
  });

  it("sees added, removed and undefined keys, and shorter arrays, as changes", () => {
    expect(shareUnchanged({ a: 1 }, { a: 1, b: undefined })).toEqual({ a: 1, b: undefined });
    expect(shareUnchanged({ a: 1, b: undefined }, { a: 1 })).not.toHaveProperty("b");
    const list = [1, 2, 3];
    expect(shareUnchanged(list, [1, 2])).toEqual([1, 2]);
    expect(shareUnchanged({ a: [1] }, { a: { 0: 1 } })).toEqual({ a: { 0: 1 } });
  });

  it("leaves class instances, Maps, Sets and Dates as the new state has them", () => {
    const previous = { when: new Date(1), ids: new Set([1]), index: new Map([["a", 1]]) };
    const next = structuredClone(previous);
    const shared = shareUnchanged(previous, next);
    expect(shared.when).toBe(next.when);
    expect(shared.ids).toBe(next.ids);
    expect(shared.index).toBe(next.index);
  });

  it("always equals the new state, and leaves the previous one as it was (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (previous, next) => {
        const copy = structuredClone(next);
        const before = structuredClone(previous);
        expect(shareUnchanged(previous, next)).toEqual(copy);
        expect(previous).toEqual(before);
      }),
    );
  });

  it("walks a board of a thousand cards without copying it", () => {
    const cards: Record<string, { title: string }> = {};
    for (let i = 0; i < 1000; i++) cards[`c${i}`] = { title: `Card ${i}` };
    const previous = { cards };
    const next = structuredClone(previous);
    next.cards.c500 = { title: "Moved" };
    const shared = shareUnchanged(previous, next);
    expect(shared).toBe(next);
    expect(shared.cards).toBe(next.cards);
    expect(shared.cards.c499).toBe(previous.cards.c499);
    expect(shared.cards.c500).toEqual({ title: "Moved" });
  });
});

// Node tier: the main thread's cache of projection states hands listeners states whose
// unchanged parts keep their identity.
import type { ProjectionRecord } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { ProjectionCache } from "./projection-cache.ts";

type Board = { cards: Record<string, { title: string }> };
const record = (state: Board, revision: number): ProjectionRecord & { revision: number } => ({
  key: "board-view/board:1",
  name: "board-view",
  version: 1,
  checkpoint: 0,
  state: structuredClone(state), // as it arrives from the worker: a fresh copy
  revision,
});

describe("ProjectionCache", () => {
  it("gives listeners the previous objects for what did not change", () => {
    const cache = new ProjectionCache();
    const seen: Board[] = [];
    cache.listen("board-view/board:1", (state) => seen.push(state as Board));
    cache.offer(record({ cards: { a: { title: "A" } } }, 1));
    cache.offer(record({ cards: { a: { title: "A" }, b: { title: "B" } } }, 2));
    expect(seen).toHaveLength(2);
    expect(seen[1]!.cards.a).toBe(seen[0]!.cards.a);
    expect(seen[1]!.cards.b).toEqual({ title: "B" });
    expect(cache.get("board-view/board:1")?.state).toBe(seen[1]);
  });

  it("gives a newer record with an equal state a new top-level object made of the previous parts", () => {
    const cache = new ProjectionCache();
    const seen: Board[] = [];
    cache.listen("board-view/board:1", (state) => seen.push(state as Board));
    cache.offer(record({ cards: { a: { title: "A" } } }, 1));
    cache.offer(record({ cards: { a: { title: "A" } } }, 2));
    // A newer record is news (a "the stream moved" signal), and nothing in it re-renders.
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
    expect(seen[1]!.cards).toBe(seen[0]!.cards);
    // An older record is still refused.
    cache.offer(record({ cards: {} }, 1));
    expect(seen).toHaveLength(2);
    expect(cache.get("board-view/board:1")?.state).toBe(seen[1]);
  });

  it("shares a record's unchanged parts before it is offered (while its command commits)", () => {
    const cache = new ProjectionCache();
    cache.offer(record({ cards: { a: { title: "A" } } }, 1));
    const first = cache.get("board-view/board:1")!.state as Board;
    const early = record({ cards: { a: { title: "A" }, b: { title: "B" } } }, 2);
    cache.share(early);
    expect((early.state as Board).cards.a).toBe(first.cards.a);
    // Not shown until offered.
    expect(cache.get("board-view/board:1")?.state).toBe(first);
    cache.offer(early);
    expect(cache.get("board-view/board:1")?.state).toBe(early.state);
  });
});

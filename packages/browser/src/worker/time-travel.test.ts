// Node tier: temporal reads through the worker engine (fake-indexeddb): state at a position or
// time, the history with who/when and undo markers, diffs; with sync, pending events last.
import { isChronicleError } from "@chronicle/core";
import { createSyncStarter } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { ChronicleEngine } from "./engine.ts";
import type { EngineOptions } from "./engine-options.ts";
import { openEngine } from "./open-engine.ts";

const S = "board:1";
const projection = { kind: "projection", name: "board-view" } as const;
const decider = { kind: "decider", name: "board" } as const;
const opened: ChronicleEngine[] = [];
let clock = 1_000;
const open = (extra: Partial<EngineOptions> = {}) =>
  openEngine({
    name: `time-travel-${opened.length}`,
    deciders: [board],
    projections: [boardView],
    actor: "alice",
    undo: { captureWindowMs: 0 },
    now: () => clock,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    ...extra,
  }).then((engine) => {
    opened.push(engine);
    return engine;
  });

afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

describe("time travel in the worker engine", () => {
  it("reads a projection or decider at a position or time, through snapshots, and diffs states", async () => {
    const engine = await open();
    await engine.execute(S, "board", { type: "addMany", count: 1_500, prefix: "m" });
    clock = 2_000;
    await engine.execute(S, "board", { type: "addCard", id: "late", title: "Late" });
    await engine.execute(S, "board", { type: "removeCard", id: "m0" });
    // The decider saved a snapshot at 1,000 events (snapshotEvery): reads below it still work.
    expect(await engine.snapshots.load("decider/board/board:1")).toMatchObject({ position: 1500 });

    const at = await engine.stateAt(projection, S, { position: 1_200 });
    expect(at.position).toBe(1_200);
    expect((at.state as { count: number }).count).toBe(1_200);
    const byTime = await engine.stateAt(decider, S, { time: 1_999 });
    expect(byTime.position).toBe(1_500);
    expect((byTime.state as { ids: string[] }).ids).toHaveLength(1_500);
    expect(await engine.resolvePoint(S, { position: 99_999 })).toBe(1_502);
    expect(await engine.resolvePoint(S, { time: 0 })).toBe(0);

    const changes = await engine.diff(projection, S, 1_500, 1_502);
    // One card added and one removed: the count is the same, so it is not a change.
    expect(changes).toHaveLength(2);
    expect(changes).toEqual(
      expect.arrayContaining([
        { path: ["titles", "late"], kind: "added", after: "Late" },
        { path: ["titles", "m0"], kind: "removed", before: "Card 0" },
      ]),
    );
  });

  it("lists the history with who, when and undo markers", async () => {
    const engine = await open();
    await engine.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await engine.undo();
    const entries = await engine.history(S);
    expect(entries).toMatchObject([
      { position: 1, type: "card.added", actor: "alice", device: engine.deviceId },
      { position: 2, type: "card.removed", actor: "alice", undoOf: [entries[0]!.id] },
    ]);
    expect(await engine.history(S, { from: 2 })).toHaveLength(1);
  });

  it("refuses an unknown projection or a bad position with validation", async () => {
    const engine = await open();
    const unknown = await engine
      .stateAt({ kind: "projection", name: "nope" }, S, { position: 1 })
      .catch((e: unknown) => e);
    expect(isChronicleError(unknown, "validation")).toBe(true);
    const negative = await engine.stateAt(projection, S, { position: -1 }).catch((e: unknown) => e);
    expect(isChronicleError(negative, "validation")).toBe(true);
  });

  it("with sync: pending events come last in the history, marked, with provisional positions", async () => {
    const node = new MemoryNode();
    const engine = await open({
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams: [S],
        followNetwork: false,
        online: false,
      }),
    });
    await engine.execute(S, "board", { type: "addCard", id: "p1", title: "Pending" });
    const entries = await engine.history(S);
    expect(entries).toMatchObject([{ position: 1, type: "card.added", pending: true }]);
    expect(await engine.history(S, { pending: false })).toEqual([]);
    // Temporal reads cover the confirmed log only.
    expect((await engine.stateAt(projection, S, { position: 1 })).position).toBe(0);
  });
});

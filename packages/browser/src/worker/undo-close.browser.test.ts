// Browser tier: closing an engine ends its undo work on Chromium's IndexedDB, Web Locks and
// BroadcastChannel. A notice that another tab saved the stacks, arriving while close() saves
// them, must not leave a reload behind that reads the database after it closed.
import { afterEach, describe, expect, it, vi } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { openEngine } from "./open-engine.ts";
import { DexieUndoStorage } from "./undo.ts";

const S = "board:1";
const storageMethods = ["load", "revision", "save"] as const;
const { load, revision, save } = DexieUndoStorage.prototype;
const originals = { load, revision, save };

afterEach(() => {
  for (const method of storageMethods) {
    Object.assign(DexieUndoStorage.prototype, { [method]: originals[method] });
  }
  vi.unstubAllGlobals();
});

describe("undo stacks when an engine closes (Chromium)", () => {
  it("another tab's notice during close() queues no read of the closed database", async () => {
    // The undo channels this page opens, to hand the engine another tab's notice at a set moment.
    const channels: BroadcastChannel[] = [];
    const Channel = globalThis.BroadcastChannel;
    vi.stubGlobal(
      "BroadcastChannel",
      class extends Channel {
        constructor(name: string) {
          super(name);
          if (name.startsWith("chronicle-undo:")) channels.push(this);
        }
      },
    );
    const name = `undo-close-${crypto.randomUUID().slice(0, 8)}`;
    // The step waits to be saved until close() flushes it.
    const engine = await openEngine({
      name,
      deciders: [board],
      projections: [boardView],
      actor: "alice",
      undo: { saveDelayMs: 60_000 },
    });
    const { events } = await engine.execute(S, "board", { type: "addCard", id: "c1", title: "1" });
    const key = `alice/${events[0]?.meta.device}`;
    const [channel] = channels;
    expect(channel).toBeDefined();

    // Every undo storage call made once close() saved the stacks is one close() did not wait
    // for; the notice arrives while that save runs.
    let saved = false;
    const late: string[] = [];
    const failed: unknown[] = [];
    for (const method of storageMethods) {
      const original = originals[method] as (...args: unknown[]) => Promise<unknown>;
      Object.assign(DexieUndoStorage.prototype, {
        [method](this: DexieUndoStorage, ...args: unknown[]) {
          if (saved) late.push(method);
          if (method === "save")
            channel?.dispatchEvent(new MessageEvent("message", { data: { key } }));
          const result = original.apply(this, args);
          result.catch((error: unknown) => failed.push(error));
          if (method === "save") void result.then(() => (saved = true)).catch(() => {});
          return result;
        },
      });
    }
    await engine.close();
    expect(saved).toBe(true);
    // Web Locks are granted in the order asked: once this one is, every undo operation the engine
    // queued under its lock has run.
    await navigator.locks.request(`chronicle-undo:${name}:${key}`, async () => {});
    expect(late).toEqual([]);
    expect(failed).toEqual([]);
  });
});

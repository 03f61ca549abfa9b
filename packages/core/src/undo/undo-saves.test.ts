// What an undo manager asks of its storage as the stacks grow: a save names only the steps the
// operation added or changed, and a manager reloads stacks only when another one saved them.
// (Counted work, not time: the cost of a command must not grow with the steps kept.)
import { describe, expect, it, vi } from "vitest";
import { boardDecider } from "../__fixtures__/board.ts";
import { createCommandHandler } from "../decider/command-handler.ts";
import { loadState } from "../fold/load-state.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createStoreUndoHost, type UndoHost } from "./undo-host.ts";
import { createUndoManager } from "./undo-manager.ts";
import { MemoryUndoStorage, type UndoStacks } from "./undo-storage.ts";

const S = "board:1";

/** MemoryUndoStorage that counts loads and keeps what each save said changed. */
class CountingStorage extends MemoryUndoStorage {
  loads = 0;
  saves: { steps: number; changed: string[] | undefined }[] = [];

  override async load(key: string): Promise<UndoStacks | undefined> {
    this.loads++;
    return super.load(key);
  }

  override async save(key: string, stacks: UndoStacks, changed?: ReadonlySet<string>) {
    this.saves.push({
      steps: stacks.undo.length + stacks.redo.length,
      changed: changed && [...changed],
    });
    return super.save(key, stacks, changed);
  }
}

function setup(host?: (inner: UndoHost) => UndoHost) {
  let time = 0;
  const store = new MemoryEventStore();
  const storage = new CountingStorage();
  const inner = createStoreUndoHost(store);
  const makeUndo = () =>
    createUndoManager({
      host: host ? host(inner) : inner,
      actor: "alice",
      device: "dev",
      deciders: [boardDecider],
      storage,
      now: () => time,
    });
  const handle = createCommandHandler(store, boardDecider, {
    context: { actor: "alice", device: "dev" },
  });
  const cards = async () => (await loadState(store, boardDecider, S)).state.cards;
  return { store, storage, handle, cards, makeUndo, advance: (ms: number) => (time += ms) };
}

describe("undo stacks: work per operation", () => {
  it("saves name only the step each operation added or changed, however many steps are kept", async () => {
    const { storage, handle, makeUndo, advance } = setup();
    const undo = makeUndo();
    for (let i = 0; i < 40; i++) {
      const { events } = await handle(S, { type: "addCard", id: `c${i}`, title: `Card ${i}` });
      await undo.record(S, boardDecider, events, { label: "Add card" });
      advance(1_000);
    }
    expect(storage.saves).toHaveLength(40);
    const top = () => storage.saves.at(-1)!;
    expect(top().steps).toBe(40);
    expect(storage.saves.every((save) => save.changed?.length === 1)).toBe(true);

    // A merge changes the top step: that one only.
    const { events } = await handle(S, { type: "moveCard", id: "c39", to: "done" });
    await undo.record(S, boardDecider, events, { mergeKey: "c39" });
    const again = await handle(S, { type: "moveCard", id: "c39", to: "doing" });
    await undo.record(S, boardDecider, again.events, { mergeKey: "c39" });
    expect(top()).toMatchObject({ steps: 41, changed: [expect.any(String)] });
    // An undo moves a step to the redo stack: the moved step is the one new step.
    expect(await undo.undo()).toMatchObject({ status: "done" });
    expect(top()).toMatchObject({ steps: 41, changed: [expect.any(String)] });
  });

  it("loads the stacks once, not before every operation, while no other manager saves", async () => {
    const { storage, handle, makeUndo, advance } = setup();
    const undo = makeUndo();
    await undo.ready;
    for (let i = 0; i < 20; i++) {
      const { events } = await handle(S, { type: "addCard", id: `c${i}`, title: `Card ${i}` });
      await undo.record(S, boardDecider, events);
      advance(1_000);
    }
    const loads = storage.loads;
    // (Before the first save nothing is stored: those loads find nothing and cost nothing.)
    expect(loads).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i++) await undo.undo();
    for (let i = 0; i < 5; i++) await undo.redo();
    expect(storage.loads).toBe(loads);

    // Another manager on the same storage (a tab) saves: the first manager loads its copy once.
    const other = makeUndo();
    await other.ready;
    const before = storage.loads;
    expect(await other.undo()).toMatchObject({ status: "done" });
    await undo.flush();
    expect(undo.state).toMatchObject({ canUndo: true, canRedo: true });
    expect(storage.loads).toBe(before + 1);
    expect(await undo.redo()).toMatchObject({ status: "done" });
    expect(undo.state).toMatchObject({ canRedo: false });
    // ...and the other manager loads this one's copy once in turn.
    await other.flush();
    expect(other.state).toMatchObject({ canRedo: false });
    expect(storage.loads).toBe(before + 2);
  });

  it("a failed undo leaves its step on the stack: the next operation starts from the stored stacks", async () => {
    let failNext = false;
    const { handle, makeUndo, cards } = setup((inner) => ({
      ...inner,
      append: async (stream, events) => {
        if (failNext) {
          failNext = false;
          throw new Error("disk full");
        }
        return inner.append(stream, events);
      },
    }));
    const undo = makeUndo();
    const { events } = await handle(S, { type: "addCard", id: "c1", title: "One" });
    await undo.record(S, boardDecider, events, { label: "Add card" });
    failNext = true;
    await expect(undo.undo()).rejects.toThrow("disk full");
    expect(await undo.undo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await cards()).toEqual({});
    expect(await undo.redo()).toMatchObject({ status: "done", label: "Add card" });
  });
});

describe("MemoryUndoStorage", () => {
  it("copies the new step at each save, not the steps it holds already", async () => {
    const { handle, makeUndo, advance } = setup();
    const undo = makeUndo();
    await undo.ready;
    const eventsIn = (value: unknown): number => {
      if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + eventsIn(item), 0);
      if (typeof value !== "object" || value === null) return 0;
      if ("events" in value && Array.isArray(value.events)) return value.events.length;
      if ("undo" in value)
        return eventsIn((value as UndoStacks).undo) + eventsIn((value as UndoStacks).redo);
      return "type" in value && "meta" in value ? 1 : 0;
    };
    const clone = globalThis.structuredClone;
    let copied = 0;
    const spy = vi.spyOn(globalThis, "structuredClone").mockImplementation((value, options) => {
      copied += eventsIn(value);
      return clone(value, options);
    });
    try {
      const perRecord: number[] = [];
      for (let i = 0; i < 40; i++) {
        const { events } = await handle(S, { type: "addCard", id: `c${i}`, title: `Card ${i}` });
        copied = 0;
        await undo.record(S, boardDecider, events);
        perRecord.push(copied);
        advance(1_000);
      }
      // The command's event copied by the manager, and its step by the storage: 2, flat.
      expect(perRecord).toEqual(perRecord.map(() => 2));
    } finally {
      spy.mockRestore();
    }
    expect(await undo.undo()).toMatchObject({ status: "done" });
    const other = makeUndo();
    await other.ready;
    expect(other.state).toMatchObject({ canUndo: true, canRedo: true });
  });
});

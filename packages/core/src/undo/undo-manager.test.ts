import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BoardCommand, boardDecider } from "../__fixtures__/board.ts";
import { createCommandHandler } from "../decider/command-handler.ts";
import { loadState } from "../fold/load-state.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createStoreUndoHost } from "./undo-host.ts";
import { createUndoManager, type UndoState } from "./undo-manager.ts";
import { MemoryUndoStorage } from "./undo-storage.ts";

const S = "board:1";

function setup(options: { storage?: MemoryUndoStorage } = {}) {
  let time = 0;
  const clock = { advance: (ms: number) => (time += ms), now: () => time };
  const store = new MemoryEventStore();
  const storage = options.storage ?? new MemoryUndoStorage();
  const makeUndo = (actor: string) =>
    createUndoManager({
      host: createStoreUndoHost(store),
      actor,
      device: "dev",
      deciders: [boardDecider],
      storage,
      now: clock.now,
    });
  const alice = {
    undo: makeUndo("alice"),
    handle: createCommandHandler(store, boardDecider, {
      context: { actor: "alice", device: "dev" },
    }),
  };
  const bob = {
    undo: makeUndo("bob"),
    handle: createCommandHandler(store, boardDecider, { context: { actor: "bob", device: "dev" } }),
  };
  const run = async (who: typeof alice, command: BoardCommand, label?: string) => {
    const { events } = await who.handle(S, command);
    await who.undo.record(S, boardDecider, events, label === undefined ? {} : { label });
    clock.advance(1_000);
  };
  const cards = async () => (await loadState(store, boardDecider, S)).state.cards;
  return { store, storage, clock, alice, bob, run, cards, makeUndo };
}

describe("undo/redo", () => {
  it("undoes and redoes by appending compensating events, never rewriting the log", async () => {
    const { store, alice, run, cards } = setup();
    await run(alice, { type: "addCard", id: "c1", title: "One" }, "Add card");
    await run(alice, { type: "moveCard", id: "c1", to: "done" }, "Move card");
    expect(alice.undo.state).toEqual({ canUndo: true, canRedo: false, undoLabel: "Move card" });

    const first = await alice.undo.undo();
    expect(first).toMatchObject({ status: "done", label: "Move card" });
    expect((await cards()).c1?.column).toBe("todo");
    const second = await alice.undo.undo();
    expect(second.status).toBe("done");
    expect(await cards()).toEqual({});
    expect(alice.undo.state).toEqual({ canUndo: false, canRedo: true, redoLabel: "Add card" });

    await alice.undo.redo();
    await alice.undo.redo();
    expect(await cards()).toEqual({ c1: { title: "One", column: "done" } });
    const log = await store.readStream(S);
    expect(log).toHaveLength(6);
    expect(log[2]!.meta.undoOf).toEqual([log[1]!.id]);
    expect(log[3]!.meta.undoOf).toEqual([log[0]!.id]);
    expect(log[4]!.meta.redoOf).toEqual([log[0]!.id]);
    expect(log[5]!.meta.redoOf).toEqual([log[1]!.id]);
    expect(await alice.undo.undo()).toMatchObject({ status: "done", label: "Move card" });
  });

  it("undoes only my changes and keeps other actors' later ones", async () => {
    const { alice, bob, run, cards } = setup();
    await run(alice, { type: "addCard", id: "mine", title: "Mine" });
    await run(bob, { type: "addCard", id: "theirs", title: "Theirs" });
    await run(bob, { type: "moveCard", id: "theirs", to: "doing" });
    await alice.undo.undo();
    expect(await cards()).toEqual({ theirs: { title: "Theirs", column: "doing" } });
    expect(bob.undo.state.canUndo).toBe(true);
  });

  it("computes the inverse against the current state", async () => {
    const { alice, bob, run, cards } = setup();
    await run(alice, { type: "addCard", id: "c1", title: "One" });
    await run(alice, { type: "moveCard", id: "c1", to: "doing" });
    await run(bob, { type: "moveCard", id: "c1", to: "done" });
    await alice.undo.undo(); // my move was todo -> doing: undo moves it back to todo from wherever it is
    expect((await cards()).c1?.column).toBe("todo");
  });

  it("skips a step whose inverse no longer applies, with a reason, and moves on", async () => {
    const { alice, bob, run, cards } = setup();
    await run(alice, { type: "addCard", id: "c0", title: "Zero" });
    await run(alice, { type: "addCard", id: "c1", title: "One" });
    await run(bob, { type: "removeCard", id: "c1" });
    const outcome = await alice.undo.undo();
    expect(outcome).toEqual({
      status: "skipped",
      label: "card.added",
      reason: 'card "One" was already removed',
      skipped: [{ label: "card.added", reason: 'card "One" was already removed' }],
    });
    expect(await cards()).toEqual({ c0: { title: "Zero", column: "todo" } });
    expect(alice.undo.state.undoLabel).toBe("card.added");
    expect((await alice.undo.undo()).status).toBe("done");
    expect(await cards()).toEqual({});
  });

  it("merges changes with one merge key inside the capture window, and inside an app group", async () => {
    const { alice, clock, cards } = setup();
    for (const id of ["a", "b"]) {
      const { events } = await alice.handle(S, { type: "addCard", id, title: id });
      await alice.undo.record(S, boardDecider, events, { label: "Typing", mergeKey: "title" });
      clock.advance(100);
    }
    expect(alice.undo.state.undoLabel).toBe("Typing");
    clock.advance(1_000);
    await alice.undo.group("Add two", async () => {
      for (const id of ["c", "d"]) {
        const { events } = await alice.handle(S, { type: "addCard", id, title: id });
        await alice.undo.record(S, boardDecider, events);
        clock.advance(5_000);
      }
    });
    expect(alice.undo.state.undoLabel).toBe("Add two");
    await alice.undo.undo();
    expect(Object.keys(await cards()).sort()).toEqual(["a", "b"]);
    await alice.undo.undo();
    expect(await cards()).toEqual({});
  });

  it("keeps distinct commands distinct steps, however quick: only a shared merge key merges", async () => {
    const { alice, clock, cards } = setup();
    const record = async (command: BoardCommand, label: string, mergeKey?: string) => {
      const { events } = await alice.handle(S, command);
      await alice.undo.record(S, boardDecider, events, mergeKey ? { label, mergeKey } : { label });
      clock.advance(100); // well inside the 500 ms window
    };
    await record({ type: "addCard", id: "old", title: "Old" }, "Add card");
    clock.advance(1_000);
    await record({ type: "moveCard", id: "old", to: "done" }, "Move to Done");
    await record({ type: "addCard", id: "new", title: "New" }, "Add card");
    expect(alice.undo.state.undoLabel).toBe("Add card");
    expect(await alice.undo.undo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await cards()).toEqual({ old: { title: "Old", column: "done" } });
    expect(alice.undo.state.undoLabel).toBe("Move to Done");
    await alice.undo.undo();
    expect(await cards()).toEqual({ old: { title: "Old", column: "todo" } });

    // Different keys, or the same key after the window, do not merge either.
    await record({ type: "addCard", id: "x", title: "x" }, "Edit x", "field:x");
    await record({ type: "addCard", id: "y", title: "y" }, "Edit y", "field:y");
    clock.advance(1_000);
    await record({ type: "moveCard", id: "y", to: "doing" }, "Edit y", "field:y");
    expect(await alice.undo.undo()).toMatchObject({ label: "Edit y" });
    expect((await cards()).y?.column).toBe("todo");
    expect(await alice.undo.undo()).toMatchObject({ label: "Edit y" });
    expect(await alice.undo.undo()).toMatchObject({ label: "Edit x" });
    expect(await cards()).toEqual({ old: { title: "Old", column: "todo" } });
  });

  it("labels a merged step by all of its parts", async () => {
    const { alice, clock } = setup();
    for (const [id, label] of [
      ["a", "Rename"],
      ["b", "Rename"],
      ["c", "Add card"],
    ] as const) {
      const { events } = await alice.handle(S, { type: "addCard", id, title: id });
      await alice.undo.record(S, boardDecider, events, { label, mergeKey: "k" });
      clock.advance(100);
    }
    expect(alice.undo.state.undoLabel).toBe("Rename, Add card");
  });

  it("undoes what still applies of a merged step and says which parts it skipped", async () => {
    const { alice, bob, run, clock, cards } = setup();
    await run(alice, { type: "addCard", id: "old", title: "Old" });
    await alice.undo.group("Tidy up", async () => {
      for (const [command, label] of [
        [{ type: "moveCard", id: "old", to: "done" }, "Move Old"],
        [{ type: "addCard", id: "n1", title: "N1" }, "Add N1"],
        [{ type: "addCard", id: "n2", title: "N2" }, "Add N2"],
      ] as const) {
        const { events } = await alice.handle(S, command);
        await alice.undo.record(S, boardDecider, events, { label });
        clock.advance(100);
      }
    });
    await run(bob, { type: "removeCard", id: "n1" }); // another device deletes one added card
    const outcome = await alice.undo.undo();
    expect(outcome).toMatchObject({
      status: "done",
      label: "Tidy up",
      skipped: [{ label: "Add N1", reason: 'card "N1" was already removed' }],
    });
    expect(await cards()).toEqual({ old: { title: "Old", column: "todo" } });
    // The redo re-applies exactly what the undo took back.
    expect(await alice.undo.redo()).toMatchObject({ status: "done", label: "Tidy up" });
    expect(await cards()).toEqual({
      old: { title: "Old", column: "done" },
      n2: { title: "N2", column: "todo" },
    });
    expect(await alice.undo.undo()).toMatchObject({ status: "done", label: "Tidy up" });
    expect(await cards()).toEqual({ old: { title: "Old", column: "todo" } });
  });

  it("skips a merged step whose parts all no longer apply, naming each", async () => {
    const { alice, bob, run, clock, cards } = setup();
    await alice.undo.group("Add two", async () => {
      for (const id of ["a", "b"]) {
        const { events } = await alice.handle(S, { type: "addCard", id, title: id });
        await alice.undo.record(S, boardDecider, events, { label: `Add ${id}` });
        clock.advance(100);
      }
    });
    await run(bob, { type: "removeCard", id: "a" });
    await run(bob, { type: "removeCard", id: "b" });
    expect(await alice.undo.undo()).toEqual({
      status: "skipped",
      label: "Add two",
      reason: 'Add a: card "a" was already removed; Add b: card "b" was already removed',
      skipped: [
        { label: "Add a", reason: 'card "a" was already removed' },
        { label: "Add b", reason: 'card "b" was already removed' },
      ],
    });
    expect(await cards()).toEqual({});
  });

  it("keeps the stacks across a reload and bounds them", async () => {
    const storage = new MemoryUndoStorage();
    const { run, alice, makeUndo } = setup({ storage });
    await run(alice, { type: "addCard", id: "c1", title: "One" }, "Add card");
    const reloaded = makeUndo("alice");
    await reloaded.ready;
    expect(reloaded.state).toEqual({ canUndo: true, canRedo: false, undoLabel: "Add card" });
    const states: UndoState[] = [];
    reloaded.subscribe((state) => states.push(state));
    await reloaded.undo();
    expect(states.at(-1)).toEqual({ canUndo: false, canRedo: true, redoLabel: "Add card" });

    const bounded = createUndoManager({
      host: createStoreUndoHost(new MemoryEventStore()),
      actor: "x",
      device: "d",
      deciders: [boardDecider],
      maxSteps: 2,
      captureWindowMs: 0,
    });
    for (let i = 0; i < 5; i++) {
      await bounded.record(
        S,
        boardDecider,
        [
          {
            id: `e${i}`,
            stream: S,
            type: "card.added",
            version: 2,
            data: {},
            meta: { actor: "x", device: "d", occurredAt: 0, correlationId: "c" },
          },
        ],
        { label: `step ${i}` },
      );
    }
    expect(bounded.state.undoLabel).toBe("step 4");
    await bounded.undo();
    expect(bounded.state.undoLabel).toBe("step 3");
  });

  it("shares one actor's stacks between managers on the same storage (tabs of a device)", async () => {
    const { run, alice, makeUndo, cards } = setup();
    const otherTab = makeUndo("alice");
    await otherTab.ready;
    const seen: UndoState[] = [];
    otherTab.subscribe((state) => seen.push(state));
    await run(alice, { type: "addCard", id: "c1", title: "One" }, "Add card");
    await run(alice, { type: "moveCard", id: "c1", to: "done" }, "Move card");
    await expect.poll(() => otherTab.state.undoLabel).toBe("Move card");
    // The other tab undoes the change this one made; both see the same stacks afterwards.
    expect(await otherTab.undo()).toMatchObject({ status: "done", label: "Move card" });
    expect((await cards()).c1?.column).toBe("todo");
    await expect
      .poll(() => alice.undo.state)
      .toEqual({
        canUndo: true,
        canRedo: true,
        undoLabel: "Add card",
        redoLabel: "Move card",
      });
    expect(await alice.undo.undo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await cards()).toEqual({});
    expect(await otherTab.redo()).toMatchObject({ status: "done", label: "Add card" });
    expect(Object.keys(await cards())).toEqual(["c1"]);
    expect(seen.at(-1)).toMatchObject({ canUndo: true, undoLabel: "Add card" });
    otherTab.dispose();
  });

  it("with saveDelayMs, saves a burst of records once, on top of what another tab saved meanwhile", async () => {
    const { store, clock, cards } = setup();
    const storage = new MemoryUndoStorage();
    let saves = 0;
    const save = storage.save.bind(storage);
    storage.save = async (key, stacks) => {
      saves++;
      await save(key, stacks);
    };
    const manager = (saveDelayMs?: number) =>
      createUndoManager({
        host: createStoreUndoHost(store),
        actor: "alice",
        device: "dev",
        deciders: [boardDecider],
        storage,
        now: clock.now,
        ...(saveDelayMs === undefined ? {} : { saveDelayMs }),
      });
    const handle = createCommandHandler(store, boardDecider, {
      context: { actor: "alice", device: "dev" },
    });
    const lazy = manager(60_000);
    const eager = manager();
    await Promise.all([lazy.ready, eager.ready]);
    for (const id of ["a", "b", "c"]) {
      const { events } = await handle(S, { type: "addCard", id, title: id });
      await lazy.record(S, boardDecider, events, { label: `Add ${id}` });
      clock.advance(1_000);
    }
    expect(lazy.state).toMatchObject({ undoLabel: "Add c" }); // in memory at once
    expect(saves).toBe(0);
    // Another tab records and saves meanwhile.
    const { events } = await handle(S, { type: "addCard", id: "other", title: "other" });
    await eager.record(S, boardDecider, events, { label: "Add other" });
    expect(saves).toBe(1);
    await lazy.flush();
    expect(saves).toBe(2);
    const stored = await storage.load("alice/dev");
    expect(stored?.undo.map((step) => step.label)).toEqual([
      "Add other",
      "Add a",
      "Add b",
      "Add c",
    ]);
    expect(await lazy.undo()).toMatchObject({ status: "done", label: "Add c" });
    expect(Object.keys(await cards()).sort()).toEqual(["a", "b", "other"]);
    lazy.dispose();
    eager.dispose();
  });

  it("never merges a new change into a step an undo or redo just moved", async () => {
    const { alice, cards } = setup();
    const handle = async (command: BoardCommand, label: string) => {
      const { events } = await alice.handle(S, command);
      await alice.undo.record(S, boardDecider, events, { label }); // no clock advance at all
    };
    await handle({ type: "addCard", id: "c1", title: "One" }, "Add card");
    await alice.undo.undo();
    await alice.undo.redo();
    await handle({ type: "moveCard", id: "c1", to: "done" }, "Move card");
    expect(alice.undo.state).toMatchObject({ undoLabel: "Move card" });
    await alice.undo.undo();
    expect(await cards()).toEqual({ c1: { title: "One", column: "todo" } });
    expect(alice.undo.state).toMatchObject({ undoLabel: "Add card", redoLabel: "Move card" });
  });

  it("returns every projection to its earlier state, step by step, and redo restores it (property)", async () => {
    const command = fc.oneof(
      fc.record({
        type: fc.constant("addCard" as const),
        id: fc.constantFrom("a", "b", "c", "d"),
        title: fc.constantFrom("x", "y"),
      }),
      fc.record({
        type: fc.constant("moveCard" as const),
        id: fc.constantFrom("a", "b", "c", "d"),
        to: fc.constantFrom("todo", "doing", "done"),
      }),
      fc.record({
        type: fc.constant("removeCard" as const),
        id: fc.constantFrom("a", "b", "c", "d"),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 12 }), async (commands) => {
        const { alice, cards, clock } = setup();
        const states = [await cards()];
        for (const c of commands) {
          const result = await alice.handle(S, c).catch(() => undefined);
          if (!result || result.events.length === 0) continue;
          await alice.undo.record(S, boardDecider, result.events);
          states.push(await cards());
          clock.advance(1_000);
        }
        for (let i = states.length - 1; i > 0; i--) {
          expect((await alice.undo.undo()).status).toBe("done");
          expect(await cards()).toEqual(states[i - 1]);
        }
        expect((await alice.undo.undo()).status).toBe("empty");
        for (let i = 1; i < states.length; i++) {
          expect((await alice.undo.redo()).status).toBe("done");
          expect(await cards()).toEqual(states[i]);
        }
      }),
      { numRuns: 100 },
    );
  });
});

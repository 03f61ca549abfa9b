// Node tier: undo/redo in the worker engine without sync, on fake-indexeddb. The stacks live
// in the database (they survive a reopen) and are shared by engines on the same database (tabs).
import type { UndoState } from "@chronicle/core";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { HostStatus } from "../shared/host-api.ts";
import type { ChronicleEngine } from "./engine.ts";
import type { EngineOptions } from "./engine-options.ts";
import { openEngine } from "./open-engine.ts";

const S = "board:1";
let factory = new IDBFactory();
const opened: ChronicleEngine[] = [];
const open = (extra: Partial<EngineOptions> = {}) =>
  openEngine({
    name: "undo-test",
    deciders: [board],
    projections: [boardView],
    actor: "alice",
    undo: {
      captureWindowMs: 0,
      labelOf: (command: { type: string }) => (command.type === "addCard" ? "Add card" : undefined),
    },
    indexedDB: factory,
    IDBKeyRange,
    ...extra,
  }).then((engine) => {
    opened.push(engine);
    return engine;
  });

afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
  factory = new IDBFactory();
});

const titles = async (engine: ChronicleEngine) =>
  Object.keys(((await engine.read("board-view", S)).state as { titles: object }).titles).sort();

describe("undo/redo in the worker engine", () => {
  it("appends compensations with meta.undoOf and redo with meta.redoOf; projections follow", async () => {
    const statuses: HostStatus[] = [];
    const engine = await open({ onStatus: (status) => statuses.push(status) });
    await engine.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await engine.execute(S, "board", { type: "addCard", id: "c2", title: "Two" });
    await engine.execute(S, "board", { type: "removeCard", id: "c1" }, { label: "Delete One" });
    expect(await engine.undoState()).toEqual({
      canUndo: true,
      canRedo: false,
      undoLabel: "Delete One",
    });

    expect(await engine.undo()).toMatchObject({ status: "done", label: "Delete One" });
    expect(await titles(engine)).toEqual(["c1", "c2"]);
    expect(await engine.undo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await titles(engine)).toEqual(["c1"]);
    expect(await engine.redo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await titles(engine)).toEqual(["c1", "c2"]);

    const log = await engine.store.readStream(S);
    expect(log.map((event) => event.type)).toEqual([
      "card.added",
      "card.added",
      "card.removed",
      "card.added",
      "card.removed",
      "card.added",
    ]);
    expect(log[3]!.meta.undoOf).toEqual([log[2]!.id]);
    expect(log[4]!.meta.undoOf).toEqual([log[1]!.id]);
    expect(log[5]!.meta.redoOf).toEqual([log[1]!.id]);
    expect(log[5]!.meta.actor).toBe("alice");
    // The worker reports the stacks to its tab as they change.
    expect(statuses.filter((s) => s.type === "undo").at(-1)).toEqual({
      type: "undo",
      state: { canUndo: true, canRedo: true, undoLabel: "Add card", redoLabel: "Delete One" },
    });
  });

  it("leaves out commands run with undoable: false, and merges commands of one merge key inside the capture window", async () => {
    const engine = await open({ undo: { captureWindowMs: 60_000 } });
    const typing = { mergeKey: "title" };
    await engine.execute(S, "board", { type: "addCard", id: "c1", title: "One" }, typing);
    await engine.execute(S, "board", { type: "addCard", id: "c2", title: "Two" }, typing);
    await engine.execute(
      S,
      "board",
      { type: "addCard", id: "c3", title: "Three" },
      {
        undoable: false,
      },
    );
    expect(await engine.undo()).toMatchObject({ status: "done" });
    expect(await titles(engine)).toEqual(["c3"]);
    expect(await engine.undoState()).toMatchObject({ canUndo: false, canRedo: true });
  });

  it("keeps quick distinct commands distinct steps: one undo takes back the last only", async () => {
    const engine = await open({ undo: { captureWindowMs: 60_000 } });
    await engine.execute(S, "board", { type: "addCard", id: "c1", title: "Old" });
    await engine.execute(S, "board", { type: "addCard", id: "c2", title: "New" });
    expect(await engine.undo()).toMatchObject({ status: "done" });
    expect(await titles(engine)).toEqual(["c1"]);
  });

  it("groups the commands run inside undoGroup into one step", async () => {
    const engine = await open();
    await engine.undoGroup("Add two cards", async () => {
      await engine.execute(S, "board", { type: "addCard", id: "g1", title: "G1" });
      await engine.execute(S, "board", { type: "addCard", id: "g2", title: "G2" });
    });
    expect(await engine.undoState()).toMatchObject({ undoLabel: "Add two cards" });
    await engine.undo();
    expect(await titles(engine)).toEqual([]);
    expect(await engine.undoState()).toMatchObject({ canUndo: false });
  });

  it("keeps the stacks in the database: they survive closing and reopening", async () => {
    const first = await open();
    await first.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await first.close();
    const reopened = await open();
    expect(await reopened.undoState()).toMatchObject({ canUndo: true, undoLabel: "Add card" });
    expect(await reopened.undo()).toMatchObject({ status: "done" });
    expect(await titles(reopened)).toEqual([]);
    await reopened.clearUndo();
    expect(await reopened.undoState()).toEqual({ canUndo: false, canRedo: false });
  });

  it("shares one device's stacks between engines on the same database (tabs)", async () => {
    const seenByA: UndoState[] = [];
    const tabA = await open({
      onStatus: (status) => {
        if (status.type === "undo") seenByA.push(status.state);
      },
    });
    const seenByB: UndoState[] = [];
    const tabB = await open({
      onStatus: (status) => {
        if (status.type === "undo") seenByB.push(status.state);
      },
    });
    expect(tabA.deviceId).toBe(tabB.deviceId);
    await tabA.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await expect.poll(() => seenByB.at(-1)?.undoLabel, { timeout: 10_000 }).toBe("Add card");
    expect(await tabB.undo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await titles(tabA)).toEqual([]);
    // Tab A hears of B's undo through the stacks' own notice (reloaded from the database).
    await expect
      .poll(() => seenByA.at(-1), { timeout: 10_000 })
      .toMatchObject({ canUndo: false, canRedo: true });
    expect(await tabA.undoState()).toMatchObject({ canUndo: false, canRedo: true });
  });

  it("never undoes another actor's commands", async () => {
    const engine = await open();
    await engine.execute(S, "board", { type: "addCard", id: "mine", title: "Mine" });
    await engine.execute(
      S,
      "board",
      { type: "addCard", id: "theirs", title: "Theirs" },
      {
        context: {
          actor: "bob",
        },
      },
    );
    expect(await engine.undo()).toMatchObject({ status: "done" });
    expect(await titles(engine)).toEqual(["theirs"]);
    expect(await engine.undo()).toEqual({ status: "empty" });
  });

  it("a command after an undo decides on the state the undo left (the undo's write is seen)", async () => {
    const engine = await open();
    await engine.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await engine.execute(S, "board", { type: "addCard", id: "c2", title: "Two" });
    await engine.undo(); // removes c2 by a write the command path did not make
    // On the state remembered from the last command, c2 exists and this would be refused.
    const result = await engine.execute(S, "board", { type: "addCard", id: "c2", title: "Again" });
    expect(result.head).toBe(4);
    expect(await titles(engine)).toEqual(["c1", "c2"]);
    expect((await engine.read("board-view", S)).state).toMatchObject({ titles: { c2: "Again" } });
  });
});

describe("undo stacks in the database: work per command", () => {
  // Saved after every command (commands further apart than the save delay, like clicks).
  const savedAtOnce = {
    undo: {
      captureWindowMs: 0,
      saveDelayMs: 0,
      labelOf: (command: { type: string }) => (command.type === "addCard" ? "Add card" : undefined),
    },
  };
  /** Counts the events held by the undo rows a command writes and reads (meta table hooks). */
  const countUndoRows = (engine: ChronicleEngine) => {
    const counts = { written: 0, read: 0 };
    const eventsIn = (value: unknown): number => {
      const row = value as { events?: unknown[]; undo?: unknown[]; redo?: unknown[] } | undefined;
      if (!row || typeof row !== "object") return 0;
      if (Array.isArray(row.events)) return row.events.length;
      return [...(row.undo ?? []), ...(row.redo ?? [])].reduce<number>(
        (sum, step) => sum + eventsIn(step),
        0,
      );
    };
    const isUndo = (key: unknown) => typeof key === "string" && key.startsWith("undo/");
    const { meta } = engine.store.db;
    meta.hook("creating", (key, row) => {
      if (isUndo(key)) counts.written += eventsIn(row.value);
    });
    meta.hook("updating", (changes, key, row) => {
      if (isUndo(key)) counts.written += eventsIn({ ...row, ...changes }.value);
    });
    meta.hook("reading", (row) => {
      if (row && isUndo(row.key)) counts.read += eventsIn(row.value);
      return row;
    });
    return counts;
  };

  it("writes and reads the new step's events only, however many steps the stacks keep", async () => {
    const engine = await open(savedAtOnce);
    const counts = countUndoRows(engine);
    const perCommand: { written: number; read: number }[] = [];
    for (let i = 0; i < 60; i++) {
      const before = { ...counts };
      await engine.execute(S, "board", { type: "addCard", id: `c${i}`, title: `Card ${i}` });
      await engine.undoState();
      perCommand.push({
        written: counts.written - before.written,
        read: counts.read - before.read,
      });
    }
    // Each save writes its command's one event (its step), not the steps before it.
    expect(perCommand.slice(1)).toEqual(perCommand.slice(1).map(() => ({ written: 1, read: 0 })));
    // An undo writes the compensation's step and reads no stored step either.
    const before = { ...counts };
    expect(await engine.undo()).toMatchObject({ status: "done" });
    expect({ written: counts.written - before.written, read: counts.read - before.read }).toEqual({
      written: 1,
      read: 0,
    });
    expect(await engine.undoState()).toMatchObject({ canUndo: true, canRedo: true });
  });

  it("a save that fails leaves the stacks as they were, with no step stored without its head", async () => {
    const first = await open(savedAtOnce);
    await first.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await first.execute(S, "board", { type: "addCard", id: "c2", title: "Two" });
    expect(await first.undoState()).toMatchObject({ undoLabel: "Add card" });
    // The device stops while saving: the head's write fails after the new step's was issued.
    let crash = true;
    first.store.db.meta.hook("updating", (_changes, key) => {
      if (crash && typeof key === "string" && key.startsWith("undo/") && !key.includes("/step/")) {
        throw new Error("crash");
      }
    });
    await first.execute(
      S,
      "board",
      { type: "addCard", id: "c3", title: "Three" },
      { label: "Add 3" },
    );
    await first.undoState();
    crash = false;
    const rows = await first.store.db.meta.where("key").startsWith("undo/").toArray();
    const head = rows.find((row) => !row.key.includes("/step/"))?.value as { undoIds: string[] };
    expect(head.undoIds).toHaveLength(2);
    expect(rows.filter((row) => row.key.includes("/step/"))).toHaveLength(2);
    await first.close();

    const reopened = await open();
    expect(await reopened.undoState()).toMatchObject({ canUndo: true, undoLabel: "Add card" });
    expect(await reopened.undo()).toMatchObject({ status: "done", label: "Add card" });
    expect(await titles(reopened)).toEqual(["c1", "c3"]);
  });

  it("reads stacks saved whole by an earlier version, and stores them as step rows at the next save", async () => {
    const first = await open(savedAtOnce);
    await first.execute(S, "board", { type: "addCard", id: "c1", title: "One" });
    await first.execute(S, "board", { type: "addCard", id: "c2", title: "Two" });
    await first.undoState();
    const { meta } = first.store.db;
    const rows = await meta.where("key").startsWith("undo/").toArray();
    const headRow = rows.find((row) => !row.key.includes("/step/"))!;
    const steps = rows.filter((row) => row.key.includes("/step/")).map((row) => row.value);
    expect(steps).toHaveLength(2);
    const ids = (headRow.value as { undoIds: string[] }).undoIds;
    const undo = ids.map((id) => steps.find((step) => (step as { id: string }).id === id));
    // As the earlier version stored them: one row, the steps inline.
    await meta.bulkDelete(rows.map((row) => row.key));
    await meta.put({ key: headRow.key, value: { undo, redo: [] } });
    await first.close();

    const reopened = await open();
    expect(await reopened.undoState()).toMatchObject({ canUndo: true, undoLabel: "Add card" });
    expect(await reopened.undo()).toMatchObject({ status: "done" });
    expect(await titles(reopened)).toEqual(["c1"]);
    const after = await reopened.store.db.meta.where("key").startsWith("undo/").toArray();
    expect(after.find((row) => row.key === headRow.key)?.value).toMatchObject({
      undoIds: [ids[0]],
      redoIds: [expect.any(String)],
    });
    expect(after.filter((row) => row.key.includes("/step/"))).toHaveLength(2);
    expect(await reopened.undo()).toMatchObject({ status: "done" });
    expect(await titles(reopened)).toEqual([]);
  });
});

// A disposed undo manager leaves its storage alone (invariant 5 of undo-manager.ts): its owner
// closes the storage (a tab's database) once the last flush settles, and nothing the manager
// queued may read or write it afterwards, whatever another tab saves meanwhile.
import { describe, expect, it } from "vitest";
import { type BoardCommand, boardDecider } from "../__fixtures__/board.ts";
import { createCommandHandler } from "../decider/command-handler.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createStoreUndoHost } from "./undo-host.ts";
import { createUndoManager } from "./undo-manager.ts";
import { MemoryUndoStorage, type UndoStorage } from "./undo-storage.ts";

const S = "board:1";
const KEY = "alice/dev";

/**
 * Two tabs of one device on shared storage. The closing tab's storage calls go through a
 * counter: `calls` lists those made once `since()` was called.
 */
function setup() {
  const store = new MemoryEventStore();
  const storage = new MemoryUndoStorage();
  const calls: string[] = [];
  let counting = false;
  const note = <T>(method: string, result: T): T => {
    if (counting) calls.push(method);
    return result;
  };
  const counted: UndoStorage = {
    load: (key) => note("load", storage.load(key)),
    save: (key, stacks, changed) => note("save", storage.save(key, stacks, changed)),
    revision: (key) => note("revision", storage.revision(key)),
    exclusive: (key, work) => note("exclusive", storage.exclusive(key, work)),
    watch: (key, listener) => storage.watch(key, listener),
  };
  const tab = (own: UndoStorage, saveDelayMs = 0) =>
    createUndoManager({
      host: createStoreUndoHost(store),
      actor: "alice",
      device: "dev",
      deciders: [boardDecider],
      storage: own,
      saveDelayMs,
    });
  const handle = createCommandHandler(store, boardDecider, {
    context: { actor: "alice", device: "dev" },
  });
  const run = async (undo: ReturnType<typeof tab>, command: BoardCommand) => {
    const { events } = await handle(S, command);
    await undo.record(S, boardDecider, events, { label: command.type });
    return events;
  };
  const since = () => {
    counting = true;
    calls.length = 0;
  };
  return { storage, counted, calls, since, tab, run };
}

describe("a disposed undo manager", () => {
  it("drops the reload another tab's save asked for just before: the storage is not read", async () => {
    const { storage, counted, calls, since, tab, run } = setup();
    const closing = tab(counted);
    const other = tab(storage);
    await Promise.all([closing.ready, other.ready]);
    // The closing tab's owner disposes it as the other tab's notice arrives (the notice has
    // queued a reload by then: the closing tab's watcher was registered first).
    const stop = storage.watch(KEY, () => {
      closing.dispose();
      since();
      stop();
    });
    await run(other, { type: "addCard", id: "c1", title: "One" });
    // Every storage call queued so far has had its turn once this one has.
    await storage.exclusive(KEY, async () => {});
    expect(calls).toEqual([]);
  });

  it("takes no new operation, and its flush saves what waits after the operations called before", async () => {
    const { storage, counted, calls, since, tab, run } = setup();
    const closing = tab(counted, 60_000);
    await closing.ready;
    await run(closing, { type: "addCard", id: "c1", title: "One" });
    const undone = closing.undo();
    closing.dispose();
    const rejected = { name: "ChronicleError", code: "internal" };
    await expect(closing.undo()).rejects.toMatchObject(rejected);
    await expect(closing.redo()).rejects.toMatchObject(rejected);
    await expect(closing.clear()).rejects.toMatchObject(rejected);
    await expect(closing.group("Both", async () => {})).rejects.toMatchObject(rejected);
    await expect(run(closing, { type: "addCard", id: "c2", title: "Two" })).rejects.toMatchObject(
      rejected,
    );
    // The undo called before dispose still runs; the flush comes after it.
    expect(await undone).toMatchObject({ status: "done", label: "addCard" });
    await closing.flush();
    expect((await storage.load(KEY))?.redo.map((step) => step.label)).toEqual(["addCard"]);
    since();
    await storage.exclusive(KEY, async () => {});
    expect(calls).toEqual([]);
  });
});

// Node tier: the first command after a cold open (execute-local.ts, without sync), counted in
// IndexedDB transactions and in events read and written, never timed. A stream and its undo
// stacks only grow (every command is an undo step holding its events), and the first command
// must not wait behind them or pay for them. In Chromium it took 2.3-2.8 s against 0.9-1.1 s
// for the first read of a 100,000-event stream whose stacks held the 10 commands that wrote it
// (10 steps of 10,000 events): its transaction (read-write, over every table) waited for the
// engine's load of the stacks, begun at open, to read and deserialise all 100,000 events.
// - The stacks load one row per read-only transaction on `meta` alone (undo.ts): the command
//   waits for one step at most. At main@2a0a93a they loaded in a read-write transaction over
//   every table, at main@e16f7ca in one read-only transaction holding every step.
// - A save writes the steps that changed, not the whole stacks (main@b9b929b rewrote every
//   step's events after each command).
// - The decider starts from its snapshot: on a stream whose snapshot sits at the head, the
//   command reads no event.
import { IDBDatabase, IDBFactory, IDBObjectStore } from "fake-indexeddb";
import { afterEach, beforeEach, expect, it } from "vitest";
import { openBoardEngine } from "../__fixtures__/engine.ts";

interface Opened {
  mode: IDBTransactionMode;
  stores: string[];
}

let factory = new IDBFactory();
let transactions: Opened[] = [];
let metaEventsWritten = 0;
// Undo step rows read, by the transaction that read them.
let stepReads = new Map<IDBTransaction, number>();
const restore: Array<() => void> = [];

// Every transaction the engines open, and the events written into `meta` (the undo stacks).
beforeEach(() => {
  factory = new IDBFactory();
  transactions = [];
  metaEventsWritten = 0;
  stepReads = new Map();
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (
    this: IDBDatabase,
    ...args: Parameters<IDBDatabase["transaction"]>
  ) {
    const [names, mode = "readonly"] = args;
    transactions.push({ mode, stores: typeof names === "string" ? [names] : [...names] });
    return transaction.apply(this, args);
  } as IDBDatabase["transaction"];
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (
    this: IDBObjectStore,
    ...args: Parameters<IDBObjectStore["put"]>
  ) {
    if (this.name === "meta") metaEventsWritten += envelopesIn(args[0]);
    return put.apply(this, args);
  } as IDBObjectStore["put"];
  const get = IDBObjectStore.prototype.get;
  IDBObjectStore.prototype.get = function (
    this: IDBObjectStore,
    ...args: Parameters<IDBObjectStore["get"]>
  ) {
    const [key] = args;
    if (this.name === "meta" && typeof key === "string" && key.includes("/step/")) {
      stepReads.set(this.transaction, (stepReads.get(this.transaction) ?? 0) + 1);
    }
    return get.apply(this, args);
  } as IDBObjectStore["get"];
  restore.push(() => {
    IDBDatabase.prototype.transaction = transaction;
    IDBObjectStore.prototype.put = put;
    IDBObjectStore.prototype.get = get;
  });
});

afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

// The event envelopes a stored value holds (an undo step keeps the events it would compensate).
function envelopesIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + envelopesIn(item), 0);
  if (typeof value !== "object" || value === null) return 0;
  const own = "id" in value && "type" in value && "data" in value ? 1 : 0;
  return own + Object.values(value).reduce((sum: number, item) => sum + envelopesIn(item), 0);
}

const open = () => openBoardEngine("cold-command-test", factory);

it("the first command after a cold open is the only read-write transaction, and reads no event", async () => {
  // 1,000 events in 5 commands: 5 undo steps of 200 events, a decider snapshot at the head
  // (the board decider snapshots every 1,000 events) and the projection record there too.
  const seeding = await open();
  for (let i = 0; i < 5; i++) {
    await seeding.execute("board:1", "board", { type: "addMany", count: 200, prefix: `s${i}-` });
  }
  expect((await seeding.undoState()).canUndo).toBe(true);
  await seeding.close();
  expect(metaEventsWritten).toBeGreaterThanOrEqual(1000);

  transactions = [];
  metaEventsWritten = 0;
  const engine = await open();
  let read = 0;
  const readStream = engine.store.readStream.bind(engine.store);
  engine.store.readStream = async (...args) => {
    const events = await readStream(...args);
    read += events.length;
    return events;
  };
  const result = await engine.execute("board:1", "board", {
    type: "addCard",
    id: "cold",
    title: "Cold",
  });
  expect(result.head).toBe(1001);
  const writes = transactions.filter((opened) => opened.mode === "readwrite");
  // The command's transaction, over every table: nothing the open started is in front of it.
  expect(writes).toHaveLength(1);
  expect(writes[0]!.stores).toEqual(expect.arrayContaining(["events", "projections", "meta"]));
  // The undo stacks (5 steps of 200 events) were read one step per read-only transaction: the
  // command's transaction never queued behind the whole stacks (1,000 events).
  expect((await engine.undoState()).canUndo).toBe(true);
  expect([...stepReads.values()]).toEqual([1, 1, 1, 1, 1]);
  // The decider starts from its snapshot at the head: no event read.
  expect(read).toBe(0);

  // The undo step of this command is saved without rewriting the 1,000 events of the others.
  await engine.close();
  expect(metaEventsWritten).toBe(1);
  const reopened = await open();
  expect((await reopened.undoState()).canUndo).toBe(true);
  expect(await reopened.undo()).toMatchObject({ status: "done" });
  expect(await reopened.store.head("board:1")).toBe(1002);
  await reopened.close();
});

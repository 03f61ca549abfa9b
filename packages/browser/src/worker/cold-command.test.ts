// Node tier: the first command after a cold open (execute-local.ts, without sync), counted in
// IndexedDB transactions and in events read and written, never timed. A user's stream and undo
// stacks only grow, and the first command must not pay for them: in Chromium it took 2.3-2.8 s
// against 0.9-1.1 s for the first read of a 100,000-event stream whose undo stacks held every
// command that wrote it (10 steps of 10,000 events). Two costs sat in front of the command:
// - the undo stacks loaded at open in a read-write transaction over every table, which the
//   command's own transaction (read-write, over every table) had to wait for, while it read and
//   deserialised every step's events;
// - a save after a command rewrote the whole stacks (every step's events), so the database
//   the next open read had just been rewritten whole.
// The stacks now load in a read-only transaction on `meta` (undo.ts) and a save writes only the
// steps that changed: what is asserted below, on a stream whose decider snapshot sits at its
// head, so the command itself reads no event.
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
const restore: Array<() => void> = [];

// Every transaction the engines open, and the events written into `meta` (the undo stacks).
beforeEach(() => {
  factory = new IDBFactory();
  transactions = [];
  metaEventsWritten = 0;
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
  restore.push(() => {
    IDBDatabase.prototype.transaction = transaction;
    IDBObjectStore.prototype.put = put;
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
  // The undo stacks (1,000 events) were loaded, read-only and on `meta` alone.
  expect(transactions).toContainEqual({ mode: "readonly", stores: ["meta"] });
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

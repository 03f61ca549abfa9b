// Node tier: the LocalLog the worker hands its sync engine answers the pending list from the
// optimistic views. Whatever writes the log (commands, another writer's pending events, acks,
// others' events, replaced and dropped commands, epoch resets), its answers equal reading the
// table; and a synced command's status refresh reads no pending row, however many are pending.
import {
  type ConfirmedEvent,
  createEnvelope,
  type LocalLog,
  type PendingCommand,
  type SyncStatus,
} from "@chronicle/core";
import { createSyncStarter } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBDatabase as FakeIDBDatabase, IDBFactory, IDBKeyRange } from "fake-indexeddb";
import fc from "fast-check";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { ChronicleEngine } from "./engine.ts";
import { openEngine } from "./open-engine.ts";
import { OrderedLocalLog } from "./ordered-local-log.ts";

const S = "board:1";
let devices = 0;
const opened: ChronicleEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

/** An engine whose sync starter only keeps the LocalLog it is handed (nothing syncs). */
async function withCapturedLog() {
  let captured: LocalLog | undefined;
  const engine = await openEngine({
    name: `optimistic-local-log-${++devices}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    deciders: [board],
    projections: [boardView],
    undo: { captureWindowMs: 0 },
    sync: (context) => {
      captured = context.localLog;
      return { stop() {} };
    },
  });
  opened.push(engine);
  for (let i = 0; i < 100 && !captured; i++) await new Promise((r) => setTimeout(r, 5));
  return { engine, viewed: captured!, table: new OrderedLocalLog(engine.store) };
}

const added = (id: string) =>
  createEnvelope(
    S,
    { type: "card.added", version: 1, data: { id, title: id } },
    { actor: "other", device: "d" },
  );

type Step =
  | { kind: "command" | "append" | "foreign"; id: number }
  | { kind: "ack"; count: number }
  | { kind: "replace" | "drop"; pick: number }
  | { kind: "reset" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom("command", "append", "foreign"), id: fc.nat() }),
  fc.record({ kind: fc.constant("ack"), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constantFrom("replace", "drop"), pick: fc.nat() }),
  fc.record({ kind: fc.constant("reset") }),
) as fc.Arbitrary<Step>;

describe("the sync engine's LocalLog in the worker", () => {
  it("answers the pending list, the commands and the head as the tables do, whatever writes the log (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const { engine, viewed, table } = await withCapturedLog();
        let unique = 0;
        for (const s of steps) {
          const pending = await table.readPending(S);
          const head = await table.confirmedHead(S);
          switch (s.kind) {
            case "command":
              await engine.execute(S, "board", { type: "addCard", id: `c${unique++}`, title: "C" });
              break;
            case "append": {
              const command: PendingCommand = {
                id: `x${unique++}`,
                decider: "board",
                command: { type: "addCard" },
                strict: false,
                basePosition: head,
              };
              await viewed.addPending(S, [added(`a${unique++}`), added(`a${unique++}`)], command);
              break;
            }
            case "foreign":
              await viewed.applyConfirmed(S, [
                { ...added(`f${unique++}`), position: head + 1, recordedAt: Date.now() },
              ]);
              break;
            case "ack": {
              const acked: ConfirmedEvent[] = pending.slice(0, s.count).map((entry, index) => ({
                ...entry.event,
                position: head + index + 1,
                recordedAt: Date.now(),
              }));
              await viewed.applyConfirmed(S, acked);
              break;
            }
            case "replace": {
              const commands = await table.readCommands(S);
              const command = commands[s.pick % Math.max(1, commands.length)];
              if (!command) break;
              const events = s.pick % 2 === 0 ? [] : [added(`r${unique++}`)];
              await viewed.replacePending(S, command.id, events, { ...command, basePosition: -1 });
              break;
            }
            case "drop": {
              const entry = pending[s.pick % Math.max(1, pending.length)];
              if (entry) await viewed.dropPending(S, [entry.event.id]);
              break;
            }
            case "reset":
              await viewed.resetConfirmed(S, `epoch-${unique++}`);
              break;
          }
          expect(await viewed.readPending(S)).toEqual(await table.readPending(S));
          expect(await viewed.readCommands(S)).toEqual(await table.readCommands(S));
          expect(await viewed.confirmedHead(S)).toBe(await table.confirmedHead(S));
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("reads the pending list and the confirmed head asked for together in one transaction; a read asked for after a write sees it", async () => {
    // Every IndexedDB transaction opened while counting (Dexie binds the method as it opens).
    const prototype = FakeIDBDatabase.prototype as unknown as IDBDatabase;
    const transaction = prototype.transaction;
    let counting = false;
    let transactions = 0;
    prototype.transaction = function (this: IDBDatabase, ...args) {
      if (counting) transactions++;
      return transaction.apply(this, args);
    } as IDBDatabase["transaction"];
    onTestFinished(() => {
      prototype.transaction = transaction;
    });
    const { engine, viewed, table } = await withCapturedLog();
    await engine.execute(S, "board", { type: "addCard", id: "a", title: "A" });
    counting = true;
    const both = () => Promise.all([viewed.readPending(S), viewed.confirmedHead(S)]);
    const [pending, head] = await both();
    expect(pending.map((entry) => entry.event.data)).toEqual([{ id: "a", title: "A" }]);
    expect(head).toBe(0);
    expect(transactions).toBe(1);
    // The pending list and the commands too (what a push is built from).
    const [, commands] = await Promise.all([viewed.readPending(S), viewed.readCommands(S)]);
    expect(commands).toHaveLength(1);
    expect(transactions).toBe(2);
    counting = false;
    // Acknowledged: the reads asked for once that write was awaited see it.
    await viewed.applyConfirmed(S, [{ ...pending[0]!.event, position: 1, recordedAt: Date.now() }]);
    expect(await both()).toEqual([[], 1]);
    // A stream started from a snapshot: the head is its floor.
    await viewed.startConfirmedAt("board:2", { floor: 40, epoch: "e", snapshots: [] });
    const [, started] = await Promise.all([
      viewed.readPending("board:2"),
      viewed.confirmedHead("board:2"),
    ]);
    expect(started).toBe(40);
    expect(started).toBe(await table.confirmedHead("board:2"));
  });

  it("a synced command's status reads no pending row, however many are pending", async () => {
    let offline = 0;
    const statuses: SyncStatus[] = [];
    const engine = await openEngine({
      name: `optimistic-local-log-${++devices}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [board],
      projections: [boardView],
      undo: { captureWindowMs: 0 },
      sync: createSyncStarter({
        transport: createLoopbackTransport(new MemoryNode()),
        streams: [S],
        followNetwork: false,
        online: false,
      }),
      onStatus: (status) => {
        if (status.type === "sync-status") statuses.push(status.status);
      },
    });
    opened.push(engine);
    const reported = (pending: number) =>
      new Promise<void>((resolve) => {
        const check = () =>
          statuses.some((s) => s.pending === pending) ? resolve() : setTimeout(check, 2);
        check();
      });
    await engine.execute(S, "board", { type: "addMany", count: 300, prefix: "p" });
    await engine.execute(S, "board", { type: "addCard", id: "first", title: "F" });
    await reported(301);
    // Every pending row read through Dexie, from now on.
    engine.store.db.pending.hook("reading", (row) => {
      offline++;
      return row;
    });
    for (let i = 0; i < 10; i++) {
      await engine.execute(S, "board", { type: "addCard", id: `c${i}`, title: "C" });
      await reported(302 + i);
    }
    expect(statuses.at(-1)).toMatchObject({ state: "offline", pending: 311, confirmedHead: 0 });
    expect(offline).toBe(0);
  });

  it("tells the sync engine of a write once the command was answered, once per stream for the writes of one task", async () => {
    const told: string[] = [];
    let answered = false;
    let toldEarly = false;
    let listening = false;
    const wakers = new Set<() => void>();
    const engine = await openEngine({
      name: `optimistic-local-log-${++devices}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [board],
      projections: [boardView],
      sync: (context) => {
        context.onLocalWrite((stream) => {
          told.push(stream);
          if (!answered) toldEarly = true;
          for (const wake of [...wakers]) wake();
        });
        listening = true;
        return { stop() {} };
      },
    });
    opened.push(engine);
    for (let i = 0; i < 100 && !listening; i++) await new Promise((r) => setTimeout(r, 5));
    /** Resolves once `count` kicks were told (now or later). */
    const waitTold = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (told.length < count) return;
          wakers.delete(check);
          resolve();
        };
        wakers.add(check);
        check();
      });
    await engine.execute(S, "board", { type: "addCard", id: "a", title: "A" });
    answered = true;
    await waitTold(1);
    expect(told).toEqual([S]);
    expect(toldEarly).toBe(false);
    // Three pending writes announced in one task: one kick.
    for (let i = 0; i < 3; i++) engine.store.announce({ streams: [S], pending: true });
    await waitTold(2);
    // A write to another stream in a later task: its kick comes after any other kick of the
    // three writes above, which would show before it.
    engine.store.announce({ streams: ["marker"], pending: true });
    await waitTold(3);
    expect(told).toEqual([S, S, "marker"]);
  });
});

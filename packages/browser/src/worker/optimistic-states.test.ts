// Node tier: the synced command path keeps its optimistic states incrementally. Whatever
// happens underneath (the node confirming our events, another device's events arriving, a
// strict command refused and dropped, an epoch reset), the state a command is decided on and
// the projection records read equal a fresh fold of the confirmed log then the pending events
// (invariant 7), and a command folds only its own events.
import {
  foldEvents,
  initialStateOf,
  isChronicleError,
  type RecordedEvent,
  type SyncStatus,
} from "@chronicle/core";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import Dexie from "dexie";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { ChronicleEngine } from "./engine.ts";
import { openEngine } from "./open-engine.ts";

const S = "board:1";
let devices = 0;
const opened: ChronicleEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

async function device(node: MemoryNode, online = true) {
  let sync: SyncEngine | undefined;
  const wakers = new Set<() => void>();
  const engine = await openEngine({
    name: `optimistic-${++devices}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    deciders: [board],
    projections: [boardView],
    undo: { captureWindowMs: 0 },
    sync: createSyncStarter({
      transport: createLoopbackTransport(node),
      streams: [S],
      followNetwork: false,
      online,
      onEngine: (created) => {
        sync = created;
      },
    }),
    onStatus: () => {
      for (const wake of [...wakers]) wake();
    },
  });
  opened.push(engine);
  /** Resolves once the stream's status matches (now or later). */
  const until = (match: (status: SyncStatus) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        const status = engine.syncStatus(S);
        if (status && match(status)) {
          wakers.delete(check);
          resolve();
        }
      };
      wakers.add(check);
      check();
    });
  /** Resolves on the next status reported. */
  const nextStatus = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        wakers.delete(wake);
        resolve();
      };
      wakers.add(wake);
    });
  /**
   * Resolves once the stream is synced with the node: the status says so and the tables agree
   * (a status reported before the last command's push started says so too, for a moment).
   */
  const synced = async () => {
    for (;;) {
      await until(
        (s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === node.log(S).length,
      );
      const next = nextStatus(); // (one reported while the tables are read counts)
      const stored = (await pendingEvents(engine)).length === 0;
      if (stored && (await engine.store.head(S)) === node.log(S).length) return;
      await next;
    }
  };
  await until(() => true);
  return { engine, until, synced, sync: () => sync! };
}

async function pendingEvents(engine: ChronicleEngine): Promise<RecordedEvent[]> {
  const rows = await engine.store.db.pending
    .where("[stream+localSeq]")
    .between([S, Dexie.minKey], [S, Dexie.maxKey], true, true)
    .toArray();
  return rows.map((row) => row.event);
}

/** fold(confirmed, pending) read afresh from the database, for the decider and the view. */
async function freshFold(engine: ChronicleEngine) {
  const events = [...(await engine.store.readStream(S)), ...(await pendingEvents(engine))];
  return {
    decider: foldEvents(board, initialStateOf(board), events),
    view: foldEvents(boardView, initialStateOf(boardView), events),
  };
}

/** What the log holds now: confirmed ids, then pending ids. */
async function signature(engine: ChronicleEngine): Promise<string> {
  const confirmed = (await engine.store.readStream(S)).map((event) => event.id);
  const pending = (await pendingEvents(engine)).map((event) => event.id);
  return JSON.stringify([confirmed, pending]);
}

/**
 * The engine's states equal a fresh fold of the log. The sync engine may still be moving the
 * log (an ack in flight when going offline): the comparison counts only when the log was the
 * same before and after it.
 */
async function expectExact(engine: ChronicleEngine) {
  for (let attempt = 0; ; attempt++) {
    const before = await signature(engine);
    const decider = await engine.optimisticState("board", S);
    const view = (await engine.read("board-view", S)).state;
    const fresh = await freshFold(engine);
    if (attempt < 20 && (await signature(engine)) !== before) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      continue;
    }
    expect(decider).toEqual(fresh.decider);
    expect(view).toEqual(fresh.view);
    return;
  }
}

const ids = ["x", "y", "z", "w"];
type Step =
  | { kind: "a-add" | "b-add" | "a-remove" | "b-remove"; id: string; strict: boolean }
  | { kind: "online" | "offline" | "reset" | "burst" };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("a-add", "b-add", "a-remove", "b-remove"),
    id: fc.constantFrom(...ids),
    strict: fc.boolean(),
  }) as fc.Arbitrary<Step>,
  fc.record({ kind: fc.constantFrom("online", "offline", "reset", "burst") }) as fc.Arbitrary<Step>,
);

describe("the synced path's incremental optimistic state", () => {
  it("equals a fresh fold after commands, acks, others' events, refusals and epoch resets (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const node = new MemoryNode();
        const a = await device(node, false);
        const b = await device(node);
        let online = false;
        let serial = 0;
        const command = (id: string, remove: boolean) =>
          remove
            ? { type: "removeCard" as const, id }
            : { type: "addCard" as const, id, title: `${id}-${++serial}` };
        /** a's commands may be refused (the card exists, or is missing): that is fine. */
        const tryOn = async (
          engine: ChronicleEngine,
          id: string,
          remove: boolean,
          strict = false,
        ) =>
          engine.execute(S, "board", command(id, remove), { strict }).then(
            () => true,
            (error: unknown) => {
              if (isChronicleError(error, "validation") || isChronicleError(error, "not-found")) {
                return false;
              }
              throw error;
            },
          );
        for (const s of steps) {
          switch (s.kind) {
            case "a-add":
            case "a-remove": {
              const remove = s.kind === "a-remove";
              if (!online) {
                // Offline nothing moves underneath: the verdict must be the fresh state's.
                const { decider } = await freshFold(a.engine);
                const exists = decider.ids.includes(s.id);
                expect(await tryOn(a.engine, s.id, remove, s.strict)).toBe(remove === exists);
              } else await tryOn(a.engine, s.id, remove, s.strict);
              break;
            }
            case "b-add":
            case "b-remove":
              await tryOn(b.engine, s.id, s.kind === "b-remove");
              await b.synced();
              break;
            case "online":
              a.sync().setOnline(true);
              online = true;
              break;
            case "offline":
              a.sync().setOnline(false);
              online = false;
              break;
            case "burst": {
              // Going online with commands fired at once: acks arrive under pending events.
              a.sync().setOnline(true);
              online = true;
              await Promise.all(ids.map((id, index) => tryOn(a.engine, id, index % 2 === 1)));
              break;
            }
            case "reset":
              node.resetStream(S);
              b.sync().setOnline(false);
              b.sync().setOnline(true);
              await b.synced();
              if (online) {
                a.sync().setOnline(false);
                a.sync().setOnline(true);
              }
              break;
          }
          if (online) await a.synced();
          await expectExact(a.engine);
        }
        // Online at the end: both devices hold the node's log, nothing pending.
        a.sync().setOnline(true);
        await a.synced();
        await b.synced();
        await expectExact(a.engine);
        expect((await a.engine.store.readStream(S)).map((e) => e.id)).toEqual(
          node.log(S).map((e) => e.id),
        );
        expect(await pendingEvents(a.engine)).toEqual([]);
      }),
      { numRuns: 12 },
    );
  }, 120_000);

  it("folds only a command's own events, however many are pending", async () => {
    const node = new MemoryNode();
    const a = await device(node);
    await a.synced(); // the epoch is known: the acks below are the only change underneath
    a.sync().setOnline(false);
    await a.engine.execute(S, "board", { type: "addMany", count: 300, prefix: "p" });
    for (let i = 0; i < 50; i++) {
      await a.engine.execute(S, "board", { type: "addCard", id: `c${i}`, title: "C" });
    }
    const { stats } = a.engine.optimisticStates;
    const before = { ...stats };
    for (let i = 50; i < 60; i++) {
      await a.engine.execute(S, "board", { type: "addCard", id: `c${i}`, title: "C" });
    }
    // Ten commands of one event each: each folded into the decider and the view, once.
    expect(stats.pendingFolded - before.pendingFolded).toBe(20);
    expect(stats.viewReads).toBe(before.viewReads);
    expect(stats.stateRebases).toBe(before.stateRebases);
    await expectExact(a.engine);

    // Going online: the acks rebase the states in memory, without reading the pending rows.
    a.sync().setOnline(true);
    await a.synced();
    const reads = stats.viewReads;
    await expectExact(a.engine);
    expect(stats.viewReads).toBe(reads);
    expect((await a.engine.read("board-view", S)).state).toMatchObject({ count: 360 });
  });
});

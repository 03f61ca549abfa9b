// internal: not exported. Synced commands on a kept view never commit on a view the log moved
// under, run on fake-indexeddb (optimistic-known.test.ts) and on Chromium's IndexedDB
// (optimistic-known.browser.test.ts): the stamp check (stream-stamps.ts) is a unique index
// IndexedDB itself enforces.
import { createEnvelope, foldEvents, initialStateOf, type RecordedEvent } from "@chronicle/core";
import Dexie, { type DexieOptions } from "dexie";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { ExecuteResult } from "../shared/host-api.ts";
import { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { ChronicleEngine } from "./engine.ts";
import { openEngine } from "./open-engine.ts";
import { OrderedLocalLog } from "./ordered-local-log.ts";

export const S = "board:1";
export const add = (id: string) => ({ type: "addCard", id, title: id });

/** The stream's pending events, in local order. */
export async function pendingEvents(engine: ChronicleEngine): Promise<RecordedEvent[]> {
  const rows = await engine.store.db.pending
    .where("[stream+localSeq]")
    .between([S, Dexie.minKey], [S, Dexie.maxKey], true, true)
    .toArray();
  return rows.map((row) => row.event);
}

/**
 * Opens engines with sync configured whose starter syncs nothing (every write stays pending),
 * on a database of their own unless named, and closes them after each test.
 */
export function offlineEngines(
  options: () => Pick<DexieOptions, "indexedDB" | "IDBKeyRange">,
): (
  name?: string,
  dexie?: Pick<DexieOptions, "indexedDB" | "IDBKeyRange">,
) => Promise<ChronicleEngine> {
  const opened: ChronicleEngine[] = [];
  afterEach(async () => {
    for (const engine of opened.splice(0)) await engine.close();
  });
  return async (name = `offline-${crypto.randomUUID().slice(0, 8)}`, dexie = options()) => {
    const engine = await openEngine({
      name,
      ...dexie,
      deciders: [board],
      projections: [boardView],
      undo: { captureWindowMs: 0 },
      sync: () => ({ stop() {} }),
    });
    opened.push(engine);
    return engine;
  };
}

/** `options` gives the IndexedDB to use (fake-indexeddb's in Node; none: the browser's). */
export function staleViewCases(
  label: string,
  options: () => Pick<DexieOptions, "indexedDB" | "IDBKeyRange">,
): void {
  const openOffline = offlineEngines(options);

  describe(`synced commands on a kept view the log moved under (${label})`, () => {
    // Every way the sync engine's LocalLog (another tab's, its notice not arrived yet) changes the
    // stream replaces its stamp, so none goes unseen by a command decided on the kept view; the
    // last one keeps the head, the epoch and the last pending key, which alone would not show it.
    const otherEvent = () =>
      createEnvelope(S, { type: "card.added", version: 1, data: { id: "x", title: "X" } });
    const writers: Array<[string, (log: DexieLocalLog) => Promise<void>]> = [
      ["adds a pending event", (log) => log.addPending(S, [otherEvent()])],
      [
        "applies another device's event",
        (log) => log.applyConfirmed(S, [{ ...otherEvent(), position: 1, recordedAt: 1_000 }]),
      ],
      [
        "replaces a pending command's events",
        async (log) => {
          const [first] = await log.readCommands(S);
          await log.replacePending(S, first!.id, [otherEvent()]);
        },
      ],
      ["resets the stream for a new epoch", (log) => log.resetConfirmed(S, "epoch-2")],
      ["writes a new epoch", (log) => log.writeMeta(S, { epoch: "epoch-2" })],
      [
        "drops a pending event that is not the last",
        async (log) => {
          const [first] = await log.readPending(S);
          await log.dropPending(S, [first!.event.id]);
        },
      ],
    ];
    it.each(writers)(
      "write nothing on a view the log changed under (another tab %s)",
      async (_, write) => {
        const engine = await openOffline();
        await engine.execute(S, "board", add("a"));
        await engine.execute(S, "board", add("b"));
        await write(new DexieLocalLog(engine.store));
        const { stats } = engine.optimisticStates;
        const early: ExecuteResult[] = [];
        const confirmed: ExecuteResult[] = [];
        const result = await engine.execute(S, "board", add("c"), {}, (answer) => {
          early.push(answer);
          return () => confirmed.push(answer);
        });
        // Nothing decided on the stale view committed: an answer posted for it (while its write
        // ran) is never confirmed; the command ran again on a view brought up to date (rebased in
        // memory, or read afresh), and only what it resolves with is the fresh fold.
        const events = [...(await engine.store.readStream(S)), ...(await pendingEvents(engine))];
        const fresh = foldEvents(boardView, initialStateOf(boardView), events);
        expect(result.projections[0]?.state).toEqual(fresh);
        expect(early.length).toBeGreaterThan(0);
        expect(confirmed).not.toContain(early[0]);
        for (const answer of confirmed) expect(answer).toBe(result);
        expect(
          (await pendingEvents(engine)).filter(
            (event) => (event.data as { id: string }).id === "c",
          ),
        ).toHaveLength(1);
        expect(await engine.optimisticState("board", S)).toEqual(
          foldEvents(board, initialStateOf(board), events),
        );
        // The view is current again: the next command is on a kept view.
        const known = stats.knownCommands;
        await engine.execute(S, "board", add("d"));
        expect(stats.knownCommands).toBe(known + 1);
      },
    );

    it("never write under another engine's stamp: what it wrote under it is not in this view", async () => {
      // Two tabs on one database: `a` leads (its sync session writes the node's acks).
      const name = `stale-view-tabs-${crypto.randomUUID().slice(0, 8)}`;
      const dexie = options();
      const a = await openOffline(name, dexie);
      const b = await openOffline(name, dexie);
      await b.execute(S, "board", add("b0"));
      await b.execute(S, "board", add("b1"));
      const [b0] = await pendingEvents(b);
      const session = new OrderedLocalLog(a.store, a.optimisticStates.owner);
      await session.applyConfirmed(S, [{ ...b0!, position: 1, recordedAt: 1_000 }]);
      // `b` hears of the ack: its view moves in memory, states and all, to a's stamp.
      const rebases = b.optimisticStates.stats.viewRebases;
      await b.read("board-view", S);
      expect(b.optimisticStates.stats.viewRebases).toBe(rebases + 1);
      // `a` writes from its kept view under its own stamp, without replacing it.
      await a.read("board-view", S);
      await a.optimisticState("board", S);
      const known = a.optimisticStates.stats.knownCommands;
      await a.execute(S, "board", add("a0"));
      expect(a.optimisticStates.stats.knownCommands).toBe(known + 1);
      // `b`'s view misses a0: its command must be decided on the log as it is.
      const result = await b.execute(S, "board", add("b2"));
      const events = [...(await b.store.readStream(S)), ...(await pendingEvents(b))];
      expect(events.map((event) => (event.data as { id: string }).id)).toEqual([
        "b0",
        "b1",
        "a0",
        "b2",
      ]);
      expect(result.projections[0]?.state).toEqual(
        foldEvents(boardView, initialStateOf(boardView), events),
      );
      expect(await b.optimisticState("board", S)).toEqual(
        foldEvents(board, initialStateOf(board), events),
      );
    });
  });
}

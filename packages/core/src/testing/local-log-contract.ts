// @chronicle/core/testing/local-log-contract: the behaviour every LocalLog (a device's confirmed
// prefix + pending events) must have, as one Vitest suite. The sync engine relies on all of it.
import { describe, expect, it } from "vitest";
import { isChronicleError } from "../errors.ts";
import { type ConfirmedEvent, createEnvelope, type RecordedEvent } from "../events/envelope.ts";
import { isHistoryIncomplete } from "../local/history-incomplete.ts";
import type { LocalLog, PendingCommand } from "../local/local-log.ts";
import type { Snapshot } from "../snapshot/snapshot-store.ts";

/** What {@link runLocalLogContract} needs to test a local log. */
export interface LocalLogContractOptions {
  /** A fresh, empty local log. */
  makeLog: () => LocalLog | Promise<LocalLog>;
}

const S = "board:1";

function local(count: number, tag: string): RecordedEvent[] {
  return Array.from({ length: count }, (_, index) =>
    createEnvelope(
      S,
      { type: "thing.happened", version: 1, data: { tag, index } },
      { actor: "a", device: "here" },
    ),
  );
}

function confirm(events: RecordedEvent[], from: number): ConfirmedEvent[] {
  return events.map((event, index) => ({
    ...event,
    position: from + index,
    recordedAt: 1_000 + from + index,
  }));
}

function command(id: string, strict = false, basePosition = 0): PendingCommand {
  return { id, decider: "board", command: { do: id }, strict, basePosition };
}

const ids = (entries: { event: { id: string } }[]) => entries.map((entry) => entry.event.id);

/**
 * Registers the contract suite for one LocalLog implementation.
 *
 * @example
 * runLocalLogContract("memory", { makeLog: () => new MemoryLocalLog() });
 */
export function runLocalLogContract(name: string, options: LocalLogContractOptions): void {
  describe(`LocalLog contract: ${name}`, () => {
    it("keeps pending events in local order with their command", async () => {
      const log = await options.makeLog();
      const first = local(2, "a");
      const second = local(1, "b");
      await log.addPending(S, first, command("c1"));
      await log.addPending(S, second);
      const pending = await log.readPending(S);
      expect(ids(pending)).toEqual([...first, ...second].map((e) => e.id));
      expect(pending[0]!.localSeq).toBeLessThan(pending[1]!.localSeq);
      expect(pending[1]!.localSeq).toBeLessThan(pending[2]!.localSeq);
      expect(pending.map((p) => p.commandId)).toEqual(["c1", "c1", undefined]);
      expect(await log.readCommands(S)).toEqual([command("c1")]);
      expect(await log.streamsWithPending()).toEqual([S]);
      expect(await log.confirmedHead(S)).toBe(0);
    });

    it("applies confirmed events in order, skipping known ones, and confirms its own pending events", async () => {
      const log = await options.makeLog();
      const mine = local(2, "mine");
      await log.addPending(S, mine, command("c1"));
      const remote = local(1, "remote");
      await log.applyConfirmed(S, confirm(remote, 1));
      expect(await log.confirmedHead(S)).toBe(1);
      expect(ids(await log.readPending(S))).toEqual(mine.map((e) => e.id));
      await log.applyConfirmed(S, [...confirm(remote, 1), ...confirm(mine, 2)]);
      expect(await log.confirmedHead(S)).toBe(3);
      expect(await log.readPending(S)).toEqual([]);
      expect(await log.readCommands(S)).toEqual([]);
      expect((await log.readConfirmed(S)).map((e) => e.position)).toEqual([1, 2, 3]);
      expect((await log.readConfirmed(S, 1, 1)).map((e) => e.id)).toEqual([mine[0]!.id]);
      expect(await log.streamsWithPending()).toEqual([]);
    });

    it("refuses a gap with a protocol error and applies nothing", async () => {
      const log = await options.makeLog();
      await log.applyConfirmed(S, confirm(local(1, "a"), 1));
      const error = await log.applyConfirmed(S, confirm(local(2, "b"), 3)).catch((e: unknown) => e);
      expect(isChronicleError(error, "protocol")).toBe(true);
      expect(await log.confirmedHead(S)).toBe(1);
    });

    it("replaces a command's events in place, or drops them", async () => {
      const log = await options.makeLog();
      const a = local(1, "a");
      const b = local(2, "b");
      const c = local(1, "c");
      await log.addPending(S, a, command("ca"));
      await log.addPending(S, b, command("cb", true, 0));
      await log.addPending(S, c, command("cc"));
      const redecided = local(1, "b2");
      await log.replacePending(S, "cb", redecided, command("cb", true, 5));
      expect(ids(await log.readPending(S))).toEqual([a[0]!.id, redecided[0]!.id, c[0]!.id]);
      const seqs = (await log.readPending(S)).map((p) => p.localSeq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect((await log.readCommands(S)).find((x) => x.id === "cb")?.basePosition).toBe(5);
      await log.replacePending(S, "cb", []);
      expect(ids(await log.readPending(S))).toEqual([a[0]!.id, c[0]!.id]);
      expect((await log.readCommands(S)).map((x) => x.id).sort()).toEqual(["ca", "cc"]);
    });

    it("drops pending events by id", async () => {
      const log = await options.makeLog();
      const events = local(3, "a");
      await log.addPending(S, events);
      await log.dropPending(S, [events[1]!.id]);
      expect(ids(await log.readPending(S))).toEqual([events[0]!.id, events[2]!.id]);
    });

    it("forgets confirmed events on an epoch reset but keeps pending ones", async () => {
      const log = await options.makeLog();
      await log.writeMeta(S, { epoch: "e1" });
      await log.applyConfirmed(S, confirm(local(2, "a"), 1));
      const pending = local(1, "p");
      await log.addPending(S, pending);
      await log.resetConfirmed(S, "e2");
      expect(await log.confirmedHead(S)).toBe(0);
      expect(await log.readConfirmed(S)).toEqual([]);
      expect(ids(await log.readPending(S))).toEqual([pending[0]!.id]);
      expect(await log.readMeta(S)).toEqual({ epoch: "e2" });
      expect(await log.readMeta("other")).toEqual({});
    });

    it("refuses pending events that are not exact JSON with validation and the path, storing nothing", async () => {
      const log = await options.makeLog();
      const [good] = local(1, "good");
      const inexact: Array<[unknown, string]> = [
        [{ n: -0 }, "events.1.data.n"],
        [{ n: Number.NaN }, "events.1.data.n"],
        [JSON.parse('{"__proto__":{"admin":true}}'), "events.1.data"],
        [{ s: "\ud800" }, "events.1.data.s"],
        [{ u: undefined }, "events.1.data.u"],
        [{ d: new Date(0) }, "events.1.data.d"],
      ];
      for (const [data, path] of inexact) {
        const [bad] = local(1, "bad");
        const batch = [good!, { ...bad!, data }];
        for (const write of [
          () => log.addPending(S, batch, command("c1")),
          () => log.replacePending(S, "c0", batch, command("c0")),
        ]) {
          const error = await write().catch((e: unknown) => e);
          expect(isChronicleError(error, "validation"), path).toBe(true);
          expect((error as { details: { path?: unknown } }).details.path).toBe(path);
        }
      }
      expect(await log.readPending(S)).toEqual([]);
      expect(await log.readCommands(S)).toEqual([]);
      expect(await log.streamsWithPending()).toEqual([]);
    });

    it("holds one id in two streams as two events: confirming or dropping one leaves the other", async () => {
      const log = await options.makeLog();
      const T = "board:2";
      const [event] = local(1, "shared");
      const inT: RecordedEvent = { ...event!, stream: T, data: { other: true } };
      await log.addPending(S, [event!], command("cs"));
      await log.addPending(T, [inT], command("ct"));
      expect(ids(await log.readPending(S))).toEqual([event!.id]);
      expect(ids(await log.readPending(T))).toEqual([event!.id]);
      await log.applyConfirmed(T, confirm([inT], 1));
      expect(await log.readPending(T)).toEqual([]);
      expect((await log.readPending(S)).map((entry) => entry.event)).toEqual([event]);
      expect(await log.readCommands(S)).toEqual([command("cs")]);
      // The same id confirmed in S too: each stream holds its own event under it.
      await log.applyConfirmed(S, confirm([event!], 1));
      expect((await log.readConfirmed(S)).map((e) => e.data)).toEqual([event!.data]);
      expect((await log.readConfirmed(T)).map((e) => e.data)).toEqual([{ other: true }]);
      await log.addPending(S, [{ ...inT, stream: S }]);
      await log.addPending(T, [{ ...event!, stream: T }]);
      await log.dropPending(S, [event!.id]);
      expect(ids(await log.readPending(T))).toEqual([event!.id]);
      expect(await log.readPending(S)).toEqual([]);
    });

    it("starts an empty confirmed log after a floor, from snapshots, and continues it gaplessly", async () => {
      const log = await options.makeLog();
      const early = local(1, "early");
      await log.addPending(S, early, command("c0"));
      const snapshots: Snapshot[] = [
        { key: `decider/board/${S}`, position: 10, version: 2, state: { n: 10 }, takenAt: 1 },
        { key: `projection/cards/${S}`, position: 10, version: 1, state: ["x"], takenAt: 1 },
      ];
      await log.startConfirmedAt(S, { floor: 10, epoch: "e1", snapshots });
      expect(await log.confirmedFloor(S)).toBe(10);
      expect(await log.confirmedHead(S)).toBe(10);
      expect(await log.readMeta(S)).toEqual({ epoch: "e1" });
      expect(await log.readStartSnapshots(S)).toEqual(snapshots);
      expect(await log.readConfirmed(S, 10)).toEqual([]);
      expect(ids(await log.readPending(S))).toEqual([early[0]!.id]);
      const tail = local(2, "tail");
      await log.applyConfirmed(S, confirm(tail, 11));
      expect(await log.confirmedHead(S)).toBe(12);
      expect((await log.readConfirmed(S, 10)).map((e) => e.position)).toEqual([11, 12]);
      expect((await log.readConfirmed(S, 11)).map((e) => e.id)).toEqual([tail[1]!.id]);
      const gap = await log.applyConfirmed(S, confirm(local(1, "g"), 14)).catch((e: unknown) => e);
      expect(isChronicleError(gap, "protocol")).toBe(true);
      // Our pending event confirmed after the floor leaves the pending list.
      await log.applyConfirmed(S, confirm(early, 13));
      expect(await log.readPending(S)).toEqual([]);
      expect(await log.readCommands(S)).toEqual([]);
      expect(await log.streamsWithPending()).toEqual([]);
      expect(await log.confirmedFloor("other")).toBe(0);
      expect(await log.readStartSnapshots("other")).toEqual([]);
    });

    it("says history is incomplete when a read starts below the floor", async () => {
      const log = await options.makeLog();
      await log.startConfirmedAt(S, { floor: 5, epoch: "e1", snapshots: [] });
      await log.applyConfirmed(S, confirm(local(1, "t"), 6));
      for (const after of [0, 4]) {
        const error = await log.readConfirmed(S, after).catch((e: unknown) => e);
        expect(isChronicleError(error, "not-found")).toBe(true);
        expect(isHistoryIncomplete(error)).toBe(true);
        expect((error as { details: Record<string, unknown> }).details).toMatchObject({
          reason: "history-incomplete",
          stream: S,
          floor: 5,
          needed: after,
        });
      }
    });

    it("refuses to start after a floor when confirmed events or a floor are already held", async () => {
      const log = await options.makeLog();
      await log.applyConfirmed(S, confirm(local(1, "a"), 1));
      const held = await log
        .startConfirmedAt(S, { floor: 5, epoch: "e1", snapshots: [] })
        .catch((e: unknown) => e);
      expect(isChronicleError(held, "validation")).toBe(true);
      expect(await log.confirmedFloor(S)).toBe(0);
      expect(await log.confirmedHead(S)).toBe(1);
      const T = "board:3";
      await log.startConfirmedAt(T, { floor: 5, epoch: "e1", snapshots: [] });
      const again = await log
        .startConfirmedAt(T, { floor: 7, epoch: "e1", snapshots: [] })
        .catch((e: unknown) => e);
      expect(isChronicleError(again, "validation")).toBe(true);
      expect(await log.confirmedFloor(T)).toBe(5);
    });

    it("back-fills below the floor down to the first event, ending with the same log as a full copy", async () => {
      const log = await options.makeLog();
      const all = confirm(local(8, "all"), 1);
      await log.startConfirmedAt(S, { floor: 5, epoch: "e1", snapshots: [] });
      await log.applyConfirmed(S, all.slice(5));
      // Ours, written before the bootstrap and confirmed below the floor: back-fill confirms it.
      await log.addPending(
        S,
        [all[3]!].map(({ position: _p, recordedAt: _r, ...e }) => e),
        command("c4"),
      );
      const notAtFloor = await log.prependConfirmed(S, all.slice(1, 3)).catch((e: unknown) => e);
      expect(isChronicleError(notAtFloor, "protocol")).toBe(true);
      const gap = await log.prependConfirmed(S, [all[1]!, all[4]!]).catch((e: unknown) => e);
      expect(isChronicleError(gap, "protocol")).toBe(true);
      expect(await log.confirmedFloor(S)).toBe(5);
      // Events above the floor are skipped.
      await log.prependConfirmed(S, all.slice(2, 7));
      expect(await log.confirmedFloor(S)).toBe(2);
      expect(await log.confirmedHead(S)).toBe(8);
      expect(await log.readPending(S)).toEqual([]);
      expect(await log.readCommands(S)).toEqual([]);
      expect((await log.readConfirmed(S, 2)).map((e) => e.position)).toEqual([3, 4, 5, 6, 7, 8]);
      await log.prependConfirmed(S, all.slice(0, 2));
      expect(await log.confirmedFloor(S)).toBe(0);
      expect(await log.readConfirmed(S)).toEqual(all);
      expect(await log.readConfirmed(S, 0, 3)).toEqual(all.slice(0, 3));
      await log.prependConfirmed(S, all.slice(0, 1));
      expect(await log.readConfirmed(S)).toEqual(all);
    });

    it("forgets the floor and the start snapshots on an epoch reset", async () => {
      const log = await options.makeLog();
      const snapshot: Snapshot = {
        key: `decider/board/${S}`,
        position: 4,
        version: 1,
        state: 4,
        takenAt: 1,
      };
      await log.startConfirmedAt(S, { floor: 4, epoch: "e1", snapshots: [snapshot] });
      await log.applyConfirmed(S, confirm(local(1, "a"), 5));
      await log.resetConfirmed(S, "e2");
      expect(await log.confirmedFloor(S)).toBe(0);
      expect(await log.confirmedHead(S)).toBe(0);
      expect(await log.readStartSnapshots(S)).toEqual([]);
      expect(await log.readConfirmed(S)).toEqual([]);
      await log.applyConfirmed(S, confirm(local(1, "b"), 1));
      expect(await log.confirmedHead(S)).toBe(1);
    });

    it("gives back copies", async () => {
      const log = await options.makeLog();
      await log.addPending(S, local(1, "a"));
      const [entry] = await log.readPending(S);
      (entry!.event.data as { tag: string }).tag = "changed";
      const [again] = await log.readPending(S);
      expect((again!.event.data as { tag: string }).tag).toBe("a");
    });
  });
}

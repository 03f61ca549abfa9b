// Node tier: the worker engine with a sync engine (@chronicle/sync's createSyncStarter) over the
// in-memory node. Each device has its own fake-indexeddb database. Commands write pending
// events, projections show the optimistic state, and confirmed events from the node move
// projections and watchers; statuses and rejections reach the host's onStatus.
import { isChronicleError, type ProjectionRecord, type SyncStatus } from "@chronicle/core";
import { createSyncStarter, type SyncEngine, type SyncTransport } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { HostStatus } from "../shared/host-api.ts";
import type { ChronicleEngine } from "./engine.ts";
import { openEngine } from "./open-engine.ts";

const S = "board:1";
let devices = 0;
const opened: ChronicleEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

async function device(
  node: MemoryNode,
  online = true,
  transport: SyncTransport = createLoopbackTransport(node),
  streams: string[] = [S],
) {
  const statuses: HostStatus[] = [];
  const waiters = new Set<() => void>();
  let engineOf: SyncEngine | undefined;
  const engine = await openEngine({
    name: `sync-device-${++devices}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    deciders: [board],
    projections: [boardView],
    actor: "user",
    undo: { captureWindowMs: 0 },
    sync: createSyncStarter({
      transport,
      streams,
      followNetwork: false,
      online,
      onEngine: (created) => {
        engineOf = created;
      },
    }),
    onStatus: (status) => {
      statuses.push(status);
      for (const wake of [...waiters]) wake();
    },
  });
  opened.push(engine);
  /** Resolves with the first status (already seen or to come) that matches. */
  const until = (match: (status: HostStatus) => boolean) =>
    new Promise<HostStatus>((resolve) => {
      const check = () => {
        const found = statuses.find(match);
        if (found) {
          waiters.delete(check);
          resolve(found);
        }
      };
      waiters.add(check);
      check();
    });
  const synced = (head: number) =>
    until(
      (s) =>
        s.type === "sync-status" &&
        s.status.state === "synced" &&
        s.status.pending === 0 &&
        s.status.confirmedHead === head,
    );
  await until((s) => s.type === "sync-status");
  return { engine, statuses, until, synced, sync: () => engineOf! };
}

/**
 * a adds card x; both devices see it; a, offline, removes it with a strict command; b removes
 * it too and syncs; a goes online (its strict command is then decided again, and refused).
 */
async function strictRemoveOvertaken(
  node: MemoryNode,
  whileOffline: (a: Awaited<ReturnType<typeof device>>) => Promise<void> = async () => {},
) {
  const a = await device(node);
  const b = await device(node);
  await a.engine.execute(S, "board", { type: "addCard", id: "x", title: "X" });
  await a.synced(1);
  await b.synced(1);
  a.sync().setOnline(false);
  await a.engine.execute(S, "board", { type: "removeCard", id: "x" }, { strict: true });
  await whileOffline(a);
  await b.engine.execute(S, "board", { type: "removeCard", id: "x" });
  await b.synced(2);
  a.sync().setOnline(true);
  return { a, b };
}

const titles = (record: ProjectionRecord) =>
  Object.keys((record.state as { titles: Record<string, string> }).titles).sort();

describe("the worker engine with a sync engine (in-memory node)", () => {
  it("writes pending events, shows them optimistically, and converges after going online", async () => {
    const node = new MemoryNode();
    const a = await device(node, false);
    const b = await device(node);
    const seen: string[][] = [];
    let wake = () => {};
    a.engine.watch("board-view", S, (record) => {
      seen.push(titles(record));
      wake();
    });
    /** Resolves once the watcher delivered `want` (it may have already). */
    const watched = (want: string[]) =>
      new Promise<void>((resolve) => {
        wake = () => {
          if (JSON.stringify(seen.at(-1)) === JSON.stringify(want)) resolve();
        };
        wake();
      });

    const result = await a.engine.execute(S, "board", { type: "addCard", id: "a1", title: "A" });
    expect(result.pending).toBe(true);
    expect(result.events[0]!.position).toBeUndefined();
    expect(result.head).toBe(0);
    expect(titles(result.projections[0]!)).toEqual(["a1"]);
    expect(await a.engine.store.readStream(S)).toEqual([]);
    expect(titles(await a.engine.read("board-view", S))).toEqual(["a1"]);
    expect(seen.at(-1)).toEqual(["a1"]); // the command's own records reach its tab's watchers

    await b.engine.execute(S, "board", { type: "addCard", id: "b1", title: "B" });
    await b.synced(1);
    expect(node.log(S).map((e) => e.data)).toEqual([{ id: "b1", title: "B" }]);
    expect(a.engine.syncStatus(S)).toMatchObject({ state: "offline", pending: 1 });

    a.sync().setOnline(true);
    await a.synced(2);
    await b.synced(2);
    const log = node.log(S).map((e) => e.id);
    expect((await a.engine.store.readStream(S)).map((e) => e.id)).toEqual(log);
    expect((await b.engine.store.readStream(S)).map((e) => e.id)).toEqual(log);
    expect(titles(await a.engine.read("board-view", S))).toEqual(["a1", "b1"]);
    expect(titles(await b.engine.read("board-view", S))).toEqual(["a1", "b1"]);
    await watched(["a1", "b1"]);
    // The decider decides on the optimistic state too: a1 exists on both devices now.
    const error = await b.engine
      .execute(S, "board", { type: "addCard", id: "a1", title: "again" })
      .catch((e: unknown) => e);
    expect(isChronicleError(error, "validation")).toBe(true);
  });

  it("a fresh device catches up from empty; its watcher sees the node's state", async () => {
    const node = new MemoryNode();
    const a = await device(node);
    await a.engine.execute(S, "board", { type: "addMany", count: 3, prefix: "c" });
    await a.synced(3);
    const fresh = await device(node);
    await fresh.synced(3);
    expect(titles(await fresh.engine.read("board-view", S))).toEqual(["c0", "c1", "c2"]);
    expect(await fresh.engine.store.db.pending.count()).toBe(0);
  });

  it("reports a strict command that the node's newer state made impossible", async () => {
    const node = new MemoryNode();
    const { a } = await strictRemoveOvertaken(node, async (a) => {
      expect(titles(await a.engine.read("board-view", S))).toEqual([]);
    });
    const rejected = await a.until((s) => s.type === "sync-rejected");
    expect(rejected).toMatchObject({ notice: { stream: S, code: "not-found", decider: "board" } });
    await a.synced(2);
    expect(await a.engine.store.db.pending.count()).toBe(0);
    expect(titles(await a.engine.read("board-view", S))).toEqual([]);
  });

  it("appends pending events, refusing an expected version with validation", async () => {
    const node = new MemoryNode();
    const a = await device(node);
    const error = await a.engine
      .append(S, [{ type: "card.added", data: { id: "p", title: "P" } }], { expectedVersion: 0 })
      .catch((e: unknown) => e);
    expect(isChronicleError(error, "validation")).toBe(true);
    await a.engine.append(S, [{ type: "card.added", data: { id: "p", title: "P" } }]);
    await a.synced(1);
    expect(node.log(S).map((e) => e.data)).toEqual([{ id: "p", title: "P" }]);
    const status: SyncStatus | undefined = a.engine.syncStatus(S);
    expect(status).toMatchObject({ state: "synced", confirmedHead: 1 });
  });

  it("after the node's log was recreated (new epoch), drops the old confirmed events and re-pushes pending ones", async () => {
    const node = new MemoryNode();
    const a = await device(node);
    await a.engine.execute(S, "board", { type: "addCard", id: "old", title: "Old" });
    await a.synced(1);
    a.sync().setOnline(false);
    await a.engine.execute(S, "board", { type: "addCard", id: "mine", title: "Mine" });
    node.resetStream(S);
    const before = a.statuses.length;
    a.sync().setOnline(true);
    await a.until(
      (status) =>
        a.statuses.indexOf(status) >= before &&
        status.type === "sync-status" &&
        status.status.state === "synced" &&
        status.status.pending === 0 &&
        status.status.confirmedHead === 1,
    );
    expect(node.log(S).map((e) => e.data)).toEqual([{ id: "mine", title: "Mine" }]);
    expect((await a.engine.store.readStream(S)).map((e) => e.id)).toEqual(
      node.log(S).map((e) => e.id),
    );
    expect(titles(await a.engine.read("board-view", S))).toEqual(["mine"]);
    expect(await a.engine.store.db.pending.count()).toBe(0);
  });

  it("undo with sync: compensations are pending events with meta.undoOf, pushed like any write, and only my change is undone", async () => {
    const node = new MemoryNode();
    const a = await device(node);
    const b = await device(node);
    await a.engine.execute(
      S,
      "board",
      { type: "addCard", id: "a1", title: "A" },
      { label: "Add A" },
    );
    await a.synced(1);
    await b.synced(1);
    await b.engine.execute(S, "board", { type: "addCard", id: "b1", title: "B" });
    await a.synced(2);
    a.sync().setOnline(false);

    // Offline: the compensation is written as a pending event and read optimistically.
    expect(await a.engine.undoState()).toMatchObject({ canUndo: true, undoLabel: "Add A" });
    const undone = await a.engine.undo();
    expect(undone).toMatchObject({ status: "done", label: "Add A" });
    expect(titles(await a.engine.read("board-view", S))).toEqual(["b1"]);
    const [pending] = await a.engine.store.db.pending.toArray();
    expect(pending?.event).toMatchObject({ type: "card.removed", data: { id: "a1" } });
    const original = node.log(S)[0]!;
    expect(pending?.event.meta.undoOf).toEqual([original.id]);

    a.sync().setOnline(true);
    await a.synced(3);
    await b.synced(3);
    expect(node.log(S)[2]).toMatchObject({ type: "card.removed", meta: { undoOf: [original.id] } });
    expect(titles(await b.engine.read("board-view", S))).toEqual(["b1"]);
    // b's change was not touched, and b's own stack is b's alone.
    expect(await b.engine.undoState()).toMatchObject({ canUndo: true, canRedo: false });

    // Redo of a compensation that is confirmed by now: the state before it is the node's log.
    expect(await a.engine.redo()).toMatchObject({ status: "done", label: "Add A" });
    await a.synced(4);
    await b.synced(4);
    expect(node.log(S)[3]).toMatchObject({ type: "card.added", meta: { redoOf: [original.id] } });
    expect(titles(await b.engine.read("board-view", S))).toEqual(["a1", "b1"]);
  });

  it("skips the undo of a change the node refused (dropped from the log), with a reason", async () => {
    const node = new MemoryNode();
    // Decided on a state the node has moved past: rejected and dropped once a is online.
    const { a } = await strictRemoveOvertaken(node);
    await a.until((s) => s.type === "sync-rejected");
    await a.synced(2);
    expect(await a.engine.undo()).toMatchObject({
      status: "skipped",
      reason: "the change is no longer in the log",
    });
    expect(node.log(S)).toHaveLength(2);
  });

  it("skips an undo whose change another device made impossible, with a reason", async () => {
    const node = new MemoryNode();
    const a = await device(node);
    const b = await device(node);
    await a.engine.execute(S, "board", { type: "addCard", id: "x", title: "X" });
    await a.synced(1);
    await b.synced(1);
    await b.engine.execute(S, "board", { type: "removeCard", id: "x" });
    await a.synced(2);
    const outcome = await a.engine.undo();
    expect(outcome).toMatchObject({ status: "skipped", reason: 'card "X" was removed meanwhile' });
    expect(await a.engine.store.db.pending.count()).toBe(0);
    expect(node.log(S)).toHaveLength(2);
  });

  it("undo all of one device's steps, with another device's edits interleaved, leaves exactly the other's effects on both; redo restores (property)", async () => {
    // Each device adds cards with its own ids or removes one of its own, so the other device's
    // effects are independent of them: after A undoes everything, both boards hold exactly what
    // B's commands alone produce.
    const step = fc.record({ device: fc.constantFrom("a", "b"), remove: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const node = new MemoryNode();
        const a = await device(node, false); // offline: its edits interleave with b's
        const b = await device(node);
        const cards = { a: [] as string[], b: [] as string[] };
        let events = 0;
        let undoable = 0;
        for (const [index, { device: who, remove }] of steps.entries()) {
          const engine = who === "a" ? a.engine : b.engine;
          const own = cards[who];
          const command =
            remove && own.length > 0
              ? { type: "removeCard" as const, id: own.splice(index % own.length, 1)[0]! }
              : { type: "addCard" as const, id: `${who}${index}`, title: `${who} ${index}` };
          if (command.type === "addCard") own.push(command.id);
          await engine.execute(S, "board", command);
          events++;
          if (who === "a") undoable++;
        }
        const before = [...cards.a, ...cards.b].sort();
        expect(titles(await a.engine.read("board-view", S))).toEqual([...cards.a].sort());
        let outcome = await a.engine.undo();
        let undone = 0;
        while (outcome.status === "done") {
          undone++;
          outcome = await a.engine.undo();
        }
        expect(outcome.status).toBe("empty");
        expect(undone).toBe(undoable);
        a.sync().setOnline(true);
        await Promise.all([a.synced(events + undone), b.synced(events + undone)]);
        const onlyB = [...cards.b].sort();
        expect(titles(await a.engine.read("board-view", S))).toEqual(onlyB);
        expect(titles(await b.engine.read("board-view", S))).toEqual(onlyB);
        const log = node.log(S);
        expect(log.filter((event) => event.meta.undoOf)).toHaveLength(undone);

        for (let i = 0; i < undone; i++) {
          expect(await a.engine.redo()).toMatchObject({ status: "done" });
        }
        await Promise.all([a.synced(events + 2 * undone), b.synced(events + 2 * undone)]);
        expect(titles(await b.engine.read("board-view", S))).toEqual(before);
        expect(titles(await a.engine.read("board-view", S))).toEqual(before);
        for (const engine of opened.splice(0)) await engine.close();
      }),
      { numRuns: 40 },
    );
  });

  it("tokens expire: the host keeps syncing; a refused fresh token shows unauthorized in its statuses and recovers by itself", async () => {
    // Tokens "t:<expiresAt>" (ms, real clock): the node closes a connection at its expiry (4401).
    const node = new MemoryNode({
      auth: (token) => {
        const match = /^t:(\d+)$/.exec(token ?? "");
        return match ? { expiresAt: Number(match[1]) } : undefined;
      },
    });
    let refused = false;
    const shortLived = () => (refused ? "forged" : `t:${Date.now() + 150}`);
    const a = await device(node, true, createLoopbackTransport(node, { token: shortLived }));
    const b = await device(node, true, createLoopbackTransport(node, { token: "t:9999999999999" }));
    for (let round = 1; round <= 3; round++) {
      const expired = a.statuses.length;
      // The connection's token expires; the engine reconnects with a fresh one.
      await a.until(
        (status) =>
          a.statuses.indexOf(status) >= expired &&
          status.type === "sync-status" &&
          status.status.lastError?.code === "unauthorized",
      );
      await a.engine.execute(S, "board", { type: "addCard", id: `r${round}`, title: "R" });
      await b.synced(round);
    }
    const states = a.statuses.flatMap((s) => (s.type === "sync-status" ? [s.status.state] : []));
    expect(states).not.toContain("unauthorized");
    expect(states).not.toContain("error");

    refused = true;
    const unauthorized = await a.until(
      (s) => s.type === "sync-status" && s.status.state === "unauthorized",
    );
    expect(unauthorized).toMatchObject({ status: { lastError: { code: "unauthorized" } } });
    await a.engine.execute(S, "board", { type: "addCard", id: "late", title: "L" });
    await a.until(
      (s) =>
        s.type === "sync-status" && s.status.state === "unauthorized" && s.status.pending === 1,
    );
    refused = false;
    await a.synced(4);
    await b.synced(4);
    expect(titles(await b.engine.read("board-view", S))).toEqual(["late", "r1", "r2", "r3"]);
  });

  it("stores an event from the node whose id another local stream already holds", async () => {
    const node = new MemoryNode();
    const T = "board:2";
    const a = await device(node, true, createLoopbackTransport(node), [S, T]);
    await a.engine.execute(S, "board", { type: "addCard", id: "x", title: "in S" });
    await a.synced(1);
    const [stored] = await a.engine.store.readStream(S);
    const { position: _position, recordedAt: _recordedAt, ...event } = stored!;
    // Another writer (another app, an import) used the same id in stream T.
    const other = node.accept(T, () => {});
    other.receive(
      JSON.stringify({
        t: "push",
        req: "r1",
        events: [{ ...event, stream: T, data: { id: "x", title: "in T" } }],
      }),
    );
    other.close();
    await a.until(
      (s) =>
        s.type === "sync-status" &&
        s.stream === T &&
        s.status.state === "synced" &&
        s.status.confirmedHead === 1,
    );
    expect((await a.engine.store.readStream(T)).map((e) => [e.id, e.data])).toEqual([
      [stored!.id, { id: "x", title: "in T" }],
    ]);
    expect((await a.engine.store.readStream(S)).map((e) => e.data)).toEqual([
      { id: "x", title: "in S" },
    ]);
    // And it keeps syncing both.
    await a.engine.execute(T, "board", { type: "addCard", id: "y", title: "Y" });
    await a.until(
      (s) =>
        s.type === "sync-status" &&
        s.stream === T &&
        s.status.state === "synced" &&
        s.status.confirmedHead === 2,
    );
    expect(node.log(T)).toHaveLength(2);
  });

  it('with written: "once", a background stream written to is pushed by syncOnce and keeps no connection', async () => {
    const node = new MemoryNode();
    const loopback = createLoopbackTransport(node);
    const open = new Map<string, number>();
    const counting: typeof loopback = {
      connect(stream, listener) {
        open.set(stream, (open.get(stream) ?? 0) + 1);
        const connection = loopback.connect(stream, listener);
        return {
          send: (frame) => connection.send(frame),
          close: () => {
            open.set(stream, open.get(stream)! - 1);
            connection.close();
          },
        };
      },
    };
    const statuses: HostStatus[] = [];
    let wake = () => {};
    const engine = await openEngine({
      name: `sync-once-${++devices}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [board],
      projections: [boardView],
      actor: "user",
      sync: createSyncStarter({
        transport: counting,
        streams: [S],
        written: "once",
        followNetwork: false,
      }),
      onStatus: (status) => {
        statuses.push(status);
        wake();
      },
    });
    opened.push(engine);
    const background = "board:background";
    const until = (match: (status: HostStatus) => boolean) =>
      new Promise<void>((resolve) => {
        wake = () => {
          if (statuses.some(match)) resolve();
        };
        wake();
      });
    const syncedHead = (stream: string, head: number) => (status: HostStatus) =>
      status.type === "sync-status" &&
      status.stream === stream &&
      status.status.pending === 0 &&
      status.status.confirmedHead === head;

    await engine.execute(background, "board", { type: "addCard", id: "b1", title: "B" });
    await until(syncedHead(background, 1));
    await engine.execute(background, "board", { type: "addCard", id: "b2", title: "B2" });
    await until(syncedHead(background, 2));
    expect(node.log(background).map((event) => event.data)).toMatchObject([
      { id: "b1" },
      { id: "b2" },
    ]);
    await expect.poll(() => open.get(background), { timeout: 10_000 }).toBe(0);
    expect(open.get(S)).toBe(1); // the listed stream stays live
  });
});

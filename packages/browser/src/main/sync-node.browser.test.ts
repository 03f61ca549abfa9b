// Browser tier, end to end: hosts with separate databases sync through a real local node
// (`wrangler dev`, started by the browser config's global setup) over real WebSockets. Both
// write while one is offline, both converge; a fresh host catches up from empty.
import type { SyncStatus } from "@chronicle/core";
import { defineTextField } from "@chronicle/core/text";
import { createSyncStarter, createWebSocketTransport, type SyncEngine } from "@chronicle/sync";
import { expect, inject, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { hostChronicle } from "../worker/host.ts";
import type { Chronicle } from "./chronicle-types.ts";
import { createChronicle } from "./create-chronicle.ts";

// Provided by test/browser-sync/global-setup.ts (declared there too, for the setup's program).
declare module "vitest" {
  export interface ProvidedContext {
    syncNode: { url: string; tokens: { alice: string; bob: string } };
  }
}

const run = crypto.randomUUID().slice(0, 8);
const notes = defineTextField({ type: "card.notes.edited" });
const notesView = notes.projection();
const S = `board:${run}`;

async function host(label: string, user: "alice" | "bob", online = true, stream = S) {
  const { url, tokens } = inject("syncNode");
  let engine: SyncEngine | undefined;
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: `sync-${run}-${label}`,
      deciders: [board, notes.decider],
      projections: [boardView, notesView],
      // The node stamps meta.actor with the token's subject (and echoes it in the ack); the
      // undo manager records this actor's commands, so the two agree (README: Sync).
      actor: user,
      undo: { captureWindowMs: 0 },
      sync: createSyncStarter({
        transport: createWebSocketTransport({ url, token: tokens[user] }),
        streams: [stream],
        followNetwork: false,
        online,
        onEngine: (created) => {
          engine = created;
        },
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  /** Resolves once the stream's status matches (now or later). */
  const status = (match: (status: SyncStatus) => boolean) =>
    new Promise<SyncStatus>((resolve) => {
      const off = chronicle.onSyncStatus(stream, (current) => {
        if (!match(current)) return;
        queueMicrotask(() => off());
        resolve(current);
      });
    });
  const synced = (head: number) =>
    status((s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === head);
  return { chronicle, status, synced, engine: () => engine! };
}

const cards = (chronicle: Chronicle) =>
  Object.keys(chronicle.read(boardView, S)?.titles ?? {}).sort();

it("two hosts converge through a real node, one of them offline for a while; a third catches up", async () => {
  const a = await host("a", "alice", false);
  const b = await host("b", "bob");
  a.chronicle.subscribe(boardView, S, () => {});
  b.chronicle.subscribe(boardView, S, () => {});

  await a.chronicle.execute(S, board, { type: "addCard", id: "a1", title: "from a" });
  await a.chronicle.execute(S, board, { type: "addCard", id: "a2", title: "from a" });
  await b.chronicle.execute(S, board, { type: "addCard", id: "b1", title: "from b" });
  expect(cards(a.chronicle)).toEqual(["a1", "a2"]); // optimistic, offline
  await b.synced(1);
  await a.status((s) => s.state === "offline" && s.pending === 2);

  a.engine().setOnline(true);
  await Promise.all([a.synced(3), b.synced(3)]);
  const [logA, logB] = await Promise.all([a.chronicle.readStream(S), b.chronicle.readStream(S)]);
  expect(logA).toEqual(logB); // ids, positions, recordedAt, data and meta
  expect(logA.map((e) => e.meta.actor).sort()).toEqual(["alice", "alice", "bob"]);
  expect(await a.chronicle.load(boardView, S)).toMatchObject({ count: 3 });
  expect(await b.chronicle.load(boardView, S)).toMatchObject({ count: 3 });

  const c = await host("c", "bob");
  await c.synced(3);
  expect(await c.chronicle.readStream(S)).toEqual(logA);
  expect(await c.chronicle.load(boardView, S)).toMatchObject({ count: 3 });
  expect(cards(c.chronicle)).toEqual(["a1", "a2", "b1"]);
  await Promise.all([a.chronicle.close(), b.chronicle.close(), c.chronicle.close()]);
});

it("a tab that does not lead writes pending events; the leader pushes them and every tab hears the status", async () => {
  const stream = `board:${run}-tabs`;
  const leader = await host("tabs", "alice", true, stream);
  await leader.status((s) => s.state === "synced"); // the starter runs in the leading tab only
  const follower = await host("tabs", "alice", true, stream);
  expect(leader.chronicle.isLeader()).toBe(true);
  expect(follower.chronicle.isLeader()).toBe(false);
  const seen: number[] = [];
  leader.chronicle.subscribe(boardView, stream, (state) => seen.push(state.count));

  const result = await follower.chronicle.execute(stream, board, {
    type: "addCard",
    id: "t1",
    title: "from the follower",
  });
  expect(result.pending).toBe(true);
  await Promise.all([leader.synced(1), follower.synced(1)]);
  expect((await follower.chronicle.readStream(stream)).map((e) => e.position)).toEqual([1]);
  expect(await leader.chronicle.load(boardView, stream)).toMatchObject({ count: 1 });
  expect(seen).toContain(1);
  await Promise.all([follower.chronicle.close(), leader.chronicle.close()]);
});

it("undo on one device removes only its own change, on both devices, through the real node", async () => {
  const stream = `board:${run}-undo`;
  const a = await host("undo-a", "alice", true, stream);
  const b = await host("undo-b", "bob", true, stream);
  const cardsOf = (chronicle: Chronicle) =>
    Object.keys(chronicle.read(boardView, stream)?.titles ?? {}).sort();
  const shows = (chronicle: Chronicle, want: string[]) =>
    new Promise<void>((resolve) => {
      const off = chronicle.subscribe(boardView, stream, (state) => {
        if (JSON.stringify(Object.keys(state.titles).sort()) !== JSON.stringify(want)) return;
        queueMicrotask(() => off());
        resolve();
      });
    });
  await a.chronicle.execute(
    stream,
    board,
    { type: "addCard", id: "a1", title: "A" },
    {
      label: "Add A",
    },
  );
  await a.synced(1);
  await b.chronicle.execute(stream, board, { type: "addCard", id: "b1", title: "B" });
  await Promise.all([a.synced(2), b.synced(2)]);

  expect(await a.chronicle.undoManager.undo()).toMatchObject({ status: "done", label: "Add A" });
  await Promise.all([
    a.synced(3),
    b.synced(3),
    shows(a.chronicle, ["b1"]),
    shows(b.chronicle, ["b1"]),
  ]);
  expect(cardsOf(a.chronicle)).toEqual(["b1"]);
  expect(cardsOf(b.chronicle)).toEqual(["b1"]);
  const log = await b.chronicle.readStream(stream);
  expect(log[2]).toMatchObject({
    type: "card.removed",
    meta: { actor: "alice", undoOf: [log[0]!.id] },
  });
  await expect
    .poll(() => b.chronicle.undoManager.state, { timeout: 10_000 })
    .toMatchObject({ canUndo: true });
  await expect
    .poll(() => a.chronicle.undoManager.state)
    .toMatchObject({
      canUndo: false,
      canRedo: true,
    });
  expect(b.chronicle.undoManager.state.canRedo).toBe(false);
  await Promise.all([a.chronicle.close(), b.chronicle.close()]);
});

it("a collaborative text field: concurrent offline edits merge on both devices; undo takes back only mine", async () => {
  const stream = `board:${run}-notes`;
  const a = await host("notes-a", "alice", true, stream);
  const b = await host("notes-b", "bob", true, stream);
  const shows = (chronicle: Chronicle, want: string) =>
    new Promise<void>((resolve) => {
      const off = chronicle.subscribe(notesView, stream, (state) => {
        if (notes.read(state, "c1") !== want) return;
        queueMicrotask(() => off());
        resolve();
      });
    });
  const type = async (chronicle: Chronicle, edit: Parameters<typeof notes.edit>[2]) => {
    const state = (await chronicle.load(notesView, stream)) ?? { fields: {} };
    const input = notes.edit(notes.doc(state, "c1"), "c1", edit);
    await chronicle.execute(stream, notes.decider, input!.data);
  };

  await type(a.chronicle, (text) => text.insert(0, "Hello world"));
  await Promise.all([a.synced(1), b.synced(1), shows(b.chronicle, "Hello world")]);
  a.engine().setOnline(false);
  await type(a.chronicle, (text) => text.insert(6, "brave "));
  await type(b.chronicle, (text) => text.insert(text.length, "!"));
  await b.synced(2);
  a.engine().setOnline(true);
  await Promise.all([
    shows(a.chronicle, "Hello brave world!"),
    shows(b.chronicle, "Hello brave world!"),
  ]);
  await Promise.all([a.synced(3), b.synced(3)]);

  // Yjs' own undo, shipped as a new event: alice's insertion goes, bob's "!" stays.
  expect(await a.chronicle.undoManager.undo()).toMatchObject({ status: "done" });
  await Promise.all([shows(a.chronicle, "Hello world!"), shows(b.chronicle, "Hello world!")]);
  const log = await b.chronicle.readStream(stream);
  const mine = log.filter((event) => event.meta.actor === "alice" && !event.meta.undoOf);
  expect(log.at(-1)?.meta).toMatchObject({ actor: "alice", undoOf: [mine.at(-1)!.id] });
  await Promise.all([a.chronicle.close(), b.chronicle.close()]);
});

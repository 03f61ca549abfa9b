// Browser tier: projections through the main-thread API on Chromium's IndexedDB. A database
// reopened by a newer app version that learned an event version rebuilds what skipped it and
// reports progress; rebuilds on request; snapshots pruned; a cross-stream projection (the list
// of boards) read and subscribed without a stream.
import { createEnvelope } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { board } from "../__fixtures__/board.ts";
import { type BoardList, boardList } from "../__fixtures__/board-list.ts";
import { connect, firstMatching } from "../__fixtures__/connect.ts";
import { notesV1, notesV2 } from "../__fixtures__/notes.ts";
import type { RebuildProgress } from "../shared/host-api.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { DexieSnapshotStore } from "../store/state-stores.ts";

const run = crypto.randomUUID().slice(0, 8);
let databases = 0;
const freshName = () => `chronicle-projections-${run}-${++databases}`;
const S = "notebook:1";

const notesWorker = (version: 1 | 2) =>
  version === 1
    ? new Worker(new URL("../__fixtures__/notes-v1.worker.ts", import.meta.url), { type: "module" })
    : new Worker(new URL("../__fixtures__/notes-v2.worker.ts", import.meta.url), {
        type: "module",
      });

describe("upgrades without divergence", () => {
  it("a newer app version rebuilds what the old one skipped and reports progress: 1 becomes 101", async () => {
    const name = freshName();
    const v1 = await connect(name, notesWorker(1));
    await v1.chronicle.execute(S, notesV1.notebook, { text: "old" });
    // 100 notes written by a client of app version 2, as sync would have stored them.
    const store = new DexieEventStore({ name, broadcast: false });
    await store.append(
      S,
      Array.from({ length: 100 }, (_, i) =>
        createEnvelope(S, { type: "note.added", version: 2, data: { text: `${i}`, tags: [] } }),
      ),
    );
    await store.close();
    store.db.close();
    expect(await v1.chronicle.load(notesV1.notes, S)).toEqual({ count: 1 });
    expect(await v1.chronicle.load(notesV1.notebooks)).toEqual({ [S]: 1 });
    await v1.chronicle.close();

    const v2 = await connect(name, notesWorker(2));
    const progress: RebuildProgress[] = [];
    const stop = v2.chronicle.onRebuild((report) => progress.push(report));
    // Statuses cross on a channel of their own: wait for them rather than for the answers.
    const reported = (projection: string, reason: string) =>
      v2.status(
        (s) =>
          s.type === "rebuild" &&
          s.progress.projection === projection &&
          s.progress.reason === reason,
      );
    const state = await firstMatching<{ count: number }>(
      (listener) => v2.chronicle.subscribe(notesV2.notes, S, listener),
      () => true,
    );
    expect(state).toEqual({ count: 101 });
    expect(v2.chronicle.read(notesV2.notes, S)).toEqual({ count: 101 });
    expect(await v2.chronicle.load(notesV2.notebooks)).toEqual({ [S]: 101 });
    await reported("notes", "learned");
    await reported("notebooks", "learned");
    expect(progress).toEqual([
      {
        projection: "notes",
        stream: S,
        done: 101,
        total: 101,
        reason: "learned",
        learned: ["note.added@2"],
      },
      {
        projection: "notebooks",
        prefix: "notebook:",
        done: 101,
        total: 101,
        reason: "learned",
        learned: ["note.added@2"],
      },
    ]);

    // And on request, from the first event.
    expect(await v2.chronicle.rebuild(notesV2.notes, S)).toEqual({ count: 101 });
    await reported("notes", "requested");
    expect(progress.at(-1)).toEqual({
      projection: "notes",
      stream: S,
      done: 101,
      total: 101,
      reason: "requested",
    });
    stop();
    await v2.chronicle.close();
  });

  it("keeps the newest 3 snapshots of a key and drops superseded versions", async () => {
    const store = new DexieEventStore({ name: freshName(), broadcast: false });
    const snapshots = new DexieSnapshotStore(store.db);
    const key = "decider/notebook/notebook:1";
    const save = (position: number, version: number) =>
      snapshots.save({ key, position, version, state: { position }, takenAt: 0 });
    for (const position of [10, 20, 30]) await save(position, 1);
    await save(15, 3);
    for (const position of [40, 50, 60, 70]) await save(position, 2);
    const kept = (await store.db.snapshots.toArray()).filter((s) => s.key === key);
    expect(kept.map((s) => [s.position, s.version])).toEqual([
      [15, 3],
      [50, 2],
      [60, 2],
      [70, 2],
    ]);
    await store.close();
    store.db.close();
  });
});

describe("cross-stream projections on the main thread", () => {
  it("the list of boards across 3 streams is read synchronously and updates live", async () => {
    const worker = new Worker(new URL("../__fixtures__/board-list.worker.ts", import.meta.url), {
      type: "module",
    });
    const { chronicle } = await connect(freshName(), worker);
    expect(chronicle.read(boardList)).toBeUndefined();
    const seen: BoardList[] = [];
    const want = { "board:a": { cards: 2 }, "board:b": { cards: 1 }, "board:c": { cards: 3 } };
    const reached = firstMatching<BoardList>(
      (listener) =>
        chronicle.subscribe(boardList, undefined, (state) => {
          seen.push(state);
          listener(state);
        }),
      (state) => JSON.stringify(sorted(state)) === JSON.stringify(sorted(want)),
    );
    await chronicle.execute("board:a", board, { type: "addCard", id: "1", title: "A" });
    // The command's answer carried the list it moved: readable at once.
    expect(chronicle.read(boardList)).toMatchObject({ "board:a": { cards: 1 } });
    await chronicle.execute("board:b", board, { type: "addCard", id: "1", title: "B" });
    await chronicle.execute("notes:x", board, { type: "addCard", id: "1", title: "not a board" });
    await chronicle.execute("board:c", board, { type: "addMany", count: 3, prefix: "c" });
    await chronicle.execute("board:a", board, { type: "addCard", id: "2", title: "A2" });
    expect(sorted(await reached)).toEqual(sorted(want));
    expect(sorted(chronicle.read(boardList)!)).toEqual(sorted(want));
    expect(seen.every((state) => !("notes:x" in state))).toBe(true);
    await chronicle.close();
  });
});

function sorted(list: BoardList): [string, { cards: number }][] {
  return Object.entries(list).sort(([a], [b]) => a.localeCompare(b));
}

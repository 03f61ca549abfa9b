// Upgrades without divergence (docs/architecture.md, invariant 11): a persisted projection record
// or snapshot that skipped events its code did not know is not trusted by code that knows them.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createCommandHandler } from "../decider/command-handler.ts";
import { defineDecider } from "../decider/define-decider.ts";
import { defineEvent } from "../events/define-event.ts";
import { createEnvelope } from "../events/envelope.ts";
import { loadState } from "../fold/load-state.ts";
import { MemorySnapshotStore, snapshotKey } from "../snapshot/snapshot-store.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { defineProjection } from "./define-projection.ts";
import { createProjectionRunner, type ProjectionProgress } from "./projection-runner.ts";
import { MemoryProjectionStateStore } from "./projection-state-store.ts";

// App version 1 knows note.added v1; app version 2 knows v2 (tags) and note.pinned.
const noteAddedV1 = defineEvent({
  type: "note.added",
  schema: z.object({ text: z.string() }),
});
const noteAddedV2 = defineEvent({
  type: "note.added",
  version: 2,
  schema: z.object({ text: z.string(), tags: z.array(z.string()) }),
  upcasters: { 1: (v1: { text: string }) => ({ ...v1, tags: [] }) },
});
const notePinned = defineEvent({ type: "note.pinned", schema: z.object({ text: z.string() }) });

type Notes = { count: number; pinned: number };
const initialState: Notes = { count: 0, pinned: 0 };
const notesV1 = defineProjection({
  name: "notes",
  events: [noteAddedV1],
  initialState,
  handlers: { "note.added": (state) => ({ ...state, count: state.count + 1 }) },
});
// Same projection version: the developer did not bump it by hand.
const notesV2 = defineProjection({
  name: "notes",
  events: [noteAddedV2, notePinned],
  initialState,
  handlers: {
    "note.added": (state) => ({ ...state, count: state.count + 1 }),
    "note.pinned": (state) => ({ ...state, pinned: state.pinned + 1 }),
  },
});

/** 1 note written by app version 1, then `newer` notes written by a client of app version 2. */
async function logWithNewerNotes(newer: number, stream = "notes:1") {
  const store = new MemoryEventStore();
  await store.append(stream, [
    createEnvelope(stream, { type: "note.added", version: 1, data: { text: "old" } }),
  ]);
  for (let i = 0; i < newer; i++) {
    await store.append(stream, [
      createEnvelope(stream, {
        type: "note.added",
        version: 2,
        data: { text: `new ${i}`, tags: ["x"] },
      }),
    ]);
  }
  return store;
}

describe("projections across an upgrade", () => {
  it("remembers the types and versions it skipped, not the events", async () => {
    const store = await logWithNewerNotes(100);
    await store.append("notes:1", [
      createEnvelope("notes:1", { type: "note.pinned", version: 1, data: { text: "old" } }),
    ]);
    const states = new MemoryProjectionStateStore();
    const record = await createProjectionRunner({ store, states }).catchUp(notesV1, "notes:1");
    expect(record.state.count).toBe(1);
    expect(record.skipped).toEqual({ "note.added": [2], "note.pinned": [1] });
    expect((await states.get("notes/notes:1"))?.skipped).toEqual(record.skipped);
  });

  it("a persisted record that skipped what the new code knows is rebuilt: 1 becomes 101", async () => {
    const store = await logWithNewerNotes(100);
    const states = new MemoryProjectionStateStore();
    const old = await createProjectionRunner({ store, states }).read(notesV1, "notes:1");
    expect(old.count).toBe(1);

    const progress: ProjectionProgress[] = [];
    const runner = createProjectionRunner({
      store,
      states,
      pageSize: 40,
      onProgress: (p) => progress.push(p),
    });
    const fresh = await runner.read(notesV2, "notes:1");
    expect(fresh.count).toBe(101);
    expect(progress.map((p) => [p.done, p.total])).toEqual([
      [40, 101],
      [80, 101],
      [101, 101],
    ]);
    expect(progress[0]).toMatchObject({
      projection: "notes",
      key: "notes/notes:1",
      source: "notes:1",
      rebuilding: true,
      reason: "learned",
      learned: ["note.added@2"],
    });
    const stored = await states.get("notes/notes:1");
    expect(stored).toMatchObject({ checkpoint: 101, state: { count: 101 } });
    expect(stored?.skipped).toBeUndefined();

    // Rebuilt once: the next read is an ordinary catch-up with nothing to do.
    progress.length = 0;
    expect((await runner.read(notesV2, "notes:1")).count).toBe(101);
    expect(progress).toEqual([]);
  });

  it("a new handler for a type the record skipped rebuilds it without a version bump", async () => {
    const store = new MemoryEventStore();
    const pinned = createEnvelope("n", { type: "note.pinned", version: 1, data: { text: "a" } });
    await store.append("n", [pinned]);
    const states = new MemoryProjectionStateStore();
    const counting = defineProjection({
      ...notesV2,
      handlers: { "note.added": notesV2.handlers["note.added"]! },
    });
    expect((await createProjectionRunner({ store, states }).read(counting, "n")).pinned).toBe(0);
    expect((await createProjectionRunner({ store, states }).read(notesV2, "n")).pinned).toBe(1);
  });

  it("keeps a record whose skipped events are still unknown", async () => {
    const store = await logWithNewerNotes(3);
    const states = new MemoryProjectionStateStore();
    await createProjectionRunner({ store, states }).read(notesV1, "notes:1");
    const progress: ProjectionProgress[] = [];
    const again = createProjectionRunner({ store, states, onProgress: (p) => progress.push(p) });
    expect((await again.read(notesV1, "notes:1")).count).toBe(1);
    expect(progress).toEqual([]);
  });

  it("a snapshot that skipped what the new code knows is passed over for an older usable one", async () => {
    const stream = "notes:1";
    const store = new MemoryEventStore();
    for (let i = 0; i < 20; i++) {
      await store.append(stream, [
        createEnvelope(stream, { type: "note.added", version: 1, data: { text: `${i}` } }),
      ]);
    }
    for (let i = 0; i < 20; i++) {
      await store.append(stream, [
        createEnvelope(stream, { type: "note.added", version: 2, data: { text: "n", tags: [] } }),
      ]);
    }
    const snapshots = new MemorySnapshotStore({ keep: 10 });
    const withSnapshots = { ...notesV1, snapshotEvery: 10 };
    const old = await createProjectionRunner({ store, snapshots }).catchUp(withSnapshots, stream);
    expect(old.state.count).toBe(20);
    const key = snapshotKey("projection", "notes", stream);
    expect((await snapshots.load(key))?.skipped).toEqual({ "note.added": [2] });
    expect((await snapshots.load(key, { maxPosition: 20 }))?.skipped).toBeUndefined();

    // New code, no persisted record (e.g. a new tab's store): it starts from the snapshot at 20,
    // the newest one that skipped nothing it knows, and reports a catch-up of 20 events.
    const progress: ProjectionProgress[] = [];
    const runner = createProjectionRunner({
      store,
      snapshots,
      onProgress: (p) => progress.push(p),
    });
    expect((await runner.read({ ...notesV2, snapshotEvery: 10 }, stream)).count).toBe(40);
    expect(progress.map((p) => [p.done, p.total])).toEqual([[20, 20]]);
    // The snapshots it saved on the way are usable by the new code.
    expect((await snapshots.load(key))?.skipped).toBeUndefined();
  });

  it("deciders load past snapshots that skipped what they know now", async () => {
    const deciderV1 = defineDecider({
      name: "notes",
      events: [noteAddedV1],
      initialState,
      snapshotEvery: 5,
      evolve: (state) => ({ ...state, count: state.count + 1 }),
      decide: (command: { text: string }) => noteAddedV1.create(command),
    });
    const deciderV2 = defineDecider({
      name: "notes",
      events: [noteAddedV2],
      initialState,
      snapshotEvery: 5,
      evolve: (state) => ({ ...state, count: state.count + 1 }),
      decide: (command: { text: string }) => noteAddedV2.create({ ...command, tags: [] }),
    });
    const store = new MemoryEventStore();
    const snapshots = new MemorySnapshotStore();
    const handleV1 = createCommandHandler(store, deciderV1, { snapshots });
    for (let i = 0; i < 5; i++) await handleV1("n", { text: `${i}` });
    // A newer client writes 3 events; then the old app goes on and snapshots at 10.
    for (let i = 0; i < 3; i++) {
      await store.append("n", [
        createEnvelope("n", { type: "note.added", version: 2, data: { text: "n", tags: [] } }),
      ]);
    }
    for (let i = 0; i < 2; i++) await handleV1("n", { text: `${i}` });
    const key = snapshotKey("decider", "notes", "n");
    expect(await snapshots.load(key)).toMatchObject({
      position: 10,
      state: { count: 7 },
      skipped: { "note.added": [2] },
    });
    expect((await loadState(store, deciderV1, "n", { snapshots })).snapshotPosition).toBe(10);

    const loaded = await loadState(store, deciderV2, "n", { snapshots });
    expect(loaded.snapshotPosition).toBe(5);
    expect(loaded.state.count).toBe(10);
    expect(loaded.skipped).toBeUndefined();
    const handleV2 = createCommandHandler(store, deciderV2, { snapshots });
    const decided = await handleV2("n", { text: "v2" });
    expect(decided.state.count).toBe(11);
  });

  it("rebuilds on request from the first event, ignoring snapshots", async () => {
    const store = await logWithNewerNotes(4);
    const states = new MemoryProjectionStateStore();
    const snapshots = new MemorySnapshotStore();
    await snapshots.save({
      key: snapshotKey("projection", "notes", "notes:1"),
      position: 3,
      version: 1,
      state: { count: 99, pinned: 0 },
      takenAt: 0,
    });
    const progress: ProjectionProgress[] = [];
    const runner = createProjectionRunner({
      store,
      states,
      snapshots,
      onProgress: (p) => progress.push(p),
    });
    expect((await runner.read(notesV2, "notes:1")).count).toBe(101);
    const rebuilt = await runner.rebuild(notesV2, "notes:1");
    expect(rebuilt.state.count).toBe(5);
    expect(progress.at(-1)).toMatchObject({
      done: 5,
      total: 5,
      rebuilding: true,
      reason: "requested",
    });
  });

  it("a rebuild with nothing to fold still reports that it ended", async () => {
    const store = new MemoryEventStore();
    const states = new MemoryProjectionStateStore();
    const progress: ProjectionProgress[] = [];
    const runner = createProjectionRunner({ store, states, onProgress: (p) => progress.push(p) });
    await runner.rebuild(notesV2, "empty");
    expect(progress).toEqual([
      expect.objectContaining({ done: 0, total: 0, rebuilding: true, reason: "requested" }),
    ]);
  });
});

describe("snapshot pruning", () => {
  const snapshot = (position: number, version = 1) => ({
    key: "projection/notes/n",
    position,
    version,
    state: { position },
    takenAt: 0,
  });

  it("keeps the newest few of the current version per key", async () => {
    const snapshots = new MemorySnapshotStore({ keep: 3 });
    for (const position of [10, 20, 30, 40, 50]) await snapshots.save(snapshot(position));
    expect(snapshots.count("projection/notes/n")).toBe(3);
    expect(await snapshots.load("projection/notes/n", { maxPosition: 29 })).toBeUndefined();
    expect((await snapshots.load("projection/notes/n", { maxPosition: 35 }))?.position).toBe(30);
  });

  it("drops superseded versions when a newer version saves, and leaves newer ones", async () => {
    const snapshots = new MemorySnapshotStore();
    await snapshots.save(snapshot(10, 1));
    await snapshots.save(snapshot(20, 1));
    await snapshots.save(snapshot(15, 3));
    await snapshots.save(snapshot(30, 2));
    expect(snapshots.count("projection/notes/n")).toBe(2);
    expect(await snapshots.load("projection/notes/n", { version: 1 })).toBeUndefined();
    expect((await snapshots.load("projection/notes/n", { version: 3 }))?.position).toBe(15);
    // An older version saving (an old tab still open) prunes nothing of the newer one.
    await snapshots.save(snapshot(40, 1));
    expect((await snapshots.load("projection/notes/n", { version: 2 }))?.position).toBe(30);
  });

  it("a runner folding a long stream keeps 3 snapshots per key by default", async () => {
    const store = await logWithNewerNotes(99);
    const snapshots = new MemorySnapshotStore();
    await createProjectionRunner({ store, snapshots }).read(
      { ...notesV2, snapshotEvery: 10 },
      "notes:1",
    );
    const key = snapshotKey("projection", "notes", "notes:1");
    expect(snapshots.count(key)).toBe(3);
    expect((await snapshots.load(key))?.position).toBe(100);
  });
});

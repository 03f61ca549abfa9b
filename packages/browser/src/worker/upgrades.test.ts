// Node tier: the worker engine opened again by a newer app version on the same database
// (fake-indexeddb): persisted records and snapshots that skipped what it knows now are rebuilt,
// the rebuilds are reported, and snapshots are pruned (docs/architecture.md, invariant 11).
import { createEnvelope } from "@chronicle/core";
import { snapshotKey } from "@chronicle/core/store";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import { notesV1, notesV2 } from "../__fixtures__/notes.ts";
import type { HostStatus, RebuildProgress } from "../shared/host-api.ts";
import { DexieSnapshotStore } from "../store/state-stores.ts";
import type { EngineOptions } from "./engine-options.ts";
import { openEngine } from "./open-engine.ts";

const S = "notebook:1";

function opener(factory: IDBFactory) {
  return (app: typeof notesV1 | typeof notesV2, extra: Partial<EngineOptions> = {}) => {
    const statuses: HostStatus[] = [];
    const engine = openEngine({
      name: "upgrades",
      indexedDB: factory,
      IDBKeyRange,
      deciders: [app.notebook],
      projections: [app.notes, app.notebooks],
      onStatus: (status) => statuses.push(status),
      ...extra,
    });
    return engine.then((opened) => ({ engine: opened, statuses }));
  };
}

const rebuilds = (statuses: HostStatus[]): RebuildProgress[] =>
  statuses.flatMap((status) => (status.type === "rebuild" ? [status.progress] : []));

/** `count` note.added v2 events, as a client of app version 2 wrote them (synced here). */
const newerNotes = (count: number, stream = S) =>
  Array.from({ length: count }, (_, i) =>
    createEnvelope(stream, { type: "note.added", version: 2, data: { text: `n${i}`, tags: [] } }),
  );

describe("a newer app version opens the database", () => {
  it("rebuilds records that skipped what it knows now: persisted 1 becomes 101, with progress", async () => {
    const open = opener(new IDBFactory());
    const { engine: v1 } = await open(notesV1);
    await v1.execute(S, "notebook", { text: "old" });
    await v1.store.append(S, newerNotes(100));
    const old = await v1.read("notes", S);
    expect(old.state).toEqual({ count: 1 });
    expect(old.skipped).toEqual({ "note.added": [2] });
    expect((await v1.read("notebooks")).state).toEqual({ [S]: 1 });
    await v1.close();

    const { engine: v2, statuses } = await open(notesV2);
    expect((await v2.read("notes", S)).state).toEqual({ count: 101 });
    expect((await v2.read("notebooks")).state).toEqual({ [S]: 101 });
    expect(rebuilds(statuses)).toEqual([
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
    // Stored rebuilt: nothing is rebuilt twice.
    expect((await v2.store.db.projections.get(`notes/${S}`))?.skipped).toBeUndefined();
    await v2.close();
    const { engine: again, statuses: quiet } = await open(notesV2);
    expect((await again.read("notes", S)).state).toEqual({ count: 101 });
    expect(rebuilds(quiet)).toEqual([]);
    await again.close();
  });

  it("a command's own transaction rebuilds a stale record it moves, and reports it", async () => {
    const open = opener(new IDBFactory());
    const { engine: v1 } = await open(notesV1);
    await v1.execute(S, "notebook", { text: "old" });
    await v1.store.append(S, newerNotes(10));
    await v1.close();

    const { engine: v2, statuses } = await open(notesV2);
    const result = await v2.execute(S, "notebook", { text: "new" });
    expect(result.projections).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: `notes/${S}`, checkpoint: 12, state: { count: 12 } }),
        expect.objectContaining({ key: "notebooks/notebook:*", state: { [S]: 12 } }),
      ]),
    );
    const reported = rebuilds(statuses).map((p) => [p.projection, p.reason, p.done, p.total]);
    expect(reported.sort()).toEqual([
      ["notebooks", "learned", 12, 12],
      ["notes", "learned", 12, 12],
    ]);
    await v2.close();
  });

  it("deciders pass over snapshots that skipped what they know now", async () => {
    const factory = new IDBFactory();
    const open = opener(factory);
    const { engine: v1 } = await open(notesV1);
    for (let i = 0; i < 25; i++) await v1.execute(S, "notebook", { text: `${i}` });
    await v1.store.append(S, newerNotes(10));
    for (let i = 0; i < 25; i++) await v1.execute(S, "notebook", { text: `${i}` });
    const key = snapshotKey("decider", "notebook", S);
    const snapshots = new DexieSnapshotStore(v1.store.db);
    expect(await snapshots.load(key)).toMatchObject({
      position: 50,
      state: { count: 40 },
      skipped: { "note.added": [2] },
    });
    await v1.close();

    const { engine: v2 } = await open(notesV2);
    await v2.execute(S, "notebook", { text: "new" });
    // The decider state counted all 60 notes before deciding: its snapshot at 61 says so.
    expect(await new DexieSnapshotStore(v2.store.db).load(key, { maxPosition: 61 })).toMatchObject({
      position: 61,
      state: { count: 61 },
    });
    await v2.close();
  });

  it("rebuilds on request, and keeps at most 3 snapshots per key", async () => {
    const open = opener(new IDBFactory());
    const { engine, statuses } = await open(notesV2);
    for (let i = 0; i < 130; i++) await engine.execute(S, "notebook", { text: `${i}` });
    const key = snapshotKey("decider", "notebook", S);
    const positions = (
      await engine.store.db.snapshots
        .where("[key+position]")
        .between([key, 0], [key, Infinity])
        .toArray()
    ).map((s) => s.position);
    expect(positions).toEqual([75, 100, 125]);

    const rebuilt = await engine.rebuild("notes", S);
    expect(rebuilt.state).toEqual({ count: 130 });
    expect(rebuilds(statuses).at(-1)).toEqual({
      projection: "notes",
      stream: S,
      done: 130,
      total: 130,
      reason: "requested",
    });
    expect((await engine.rebuild("notebooks")).state).toEqual({ [S]: 130 });
    expect(rebuilds(statuses).at(-1)).toMatchObject({ prefix: "notebook:", reason: "requested" });
    await engine.close();
  });
});

// internal: not exported. Opening a database left by an older release, run on fake-indexeddb
// (schema.test.ts) and on Chromium's IndexedDB (schema.browser.test.ts): versions 3-4 key events
// by [stream+id] (event ids unique per stream), moving every row; pending rows, sync state and
// the device id survive; afterwards the same id is storable in two streams.
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import type { DexieOptions } from "dexie";
import { expect, it } from "vitest";
import { DexieLocalLog } from "./dexie-local-log.ts";
import { DexieEventStore } from "./dexie-store.ts";
import { ChronicleDb, schemaVersions } from "./schema.ts";

const latest = schemaVersions.at(-1)!.version;

/** `options` gives the IndexedDB to use (fake-indexeddb's in Node; none: the browser's). */
export function upgradeCases(
  label: string,
  options: () => Pick<DexieOptions, "indexedDB" | "IDBKeyRange">,
): void {
  it(`upgrades a version-2 database to ids unique per stream, keeping events, pending rows and sync state (${label})`, async () => {
    const dexie = options();
    const name = `upgrade-v2-${crypto.randomUUID().slice(0, 8)}`;
    const v2Db = new ChronicleDb(name, dexie, schemaVersions.slice(0, 2));
    // Rows as version-2 code wrote them (today's code speaks only the current schema).
    const confirmed = [
      ...sampleEvents("s", 3).map((event, index) => ({ ...event, position: index + 1 })),
      ...sampleEvents("t", 2, "node").map((event, index) => ({ ...event, position: index + 1 })),
    ].map((event, index) => ({ ...event, recordedAt: 50 + index, seq: index + 1 }));
    await v2Db.events.bulkAdd(confirmed);
    const [pendingEvent] = sampleEvents("t", 1, "p");
    const command = {
      id: "cmd-1",
      decider: "board",
      payload: { n: 1 },
      strict: true,
      basePosition: 2,
    };
    await v2Db.pending.add({ id: pendingEvent!.id, stream: "t", event: pendingEvent!, command });
    await v2Db.meta.put({ key: "stream/t", value: { cursor: 2, epoch: "e1" } });
    const device = (await v2Db.meta.get("device"))?.value;
    // Version 2 refuses the same id in another stream: ids were unique per database.
    const first = confirmed[0]!;
    const refused = await v2Db.events
      .add({ ...first, stream: "t", position: 3, seq: 6 })
      .catch((e: unknown) => e);
    expect((refused as Error).name).toBe("ConstraintError");
    v2Db.close();

    const store = new DexieEventStore({ name, ...dexie, broadcast: false });
    const local = new DexieLocalLog(store);
    // Same events, order and checkpoints.
    expect(await store.readAll()).toEqual(
      confirmed.map(({ seq, ...event }) => ({ checkpoint: seq, event })),
    );
    expect(store.db.verno).toBe(latest);
    expect(store.canWriteAt).toBe(true);
    expect((await store.db.meta.get("device"))?.value).toBe(device);
    expect(await local.readPending("t")).toEqual([
      { localSeq: 1, event: pendingEvent, commandId: "cmd-1" },
    ]);
    expect(await local.readCommands("t")).toMatchObject([{ id: "cmd-1", strict: true }]);
    expect(await local.readMeta("t")).toEqual({ epoch: "e1" });
    expect(store.db.tables.map((table) => table.name).sort()).toEqual([
      "events",
      "meta",
      "pending",
      "processConsumers",
      "processDeadLetters",
      "processInstances",
      "projections",
      "snapshots",
      "stamps",
    ]);

    // Now the same id in another stream is another event, in both tables.
    const { seq: _seq, position: _position, recordedAt: _recordedAt, ...firstEvent } = first;
    await store.append("t", [{ ...firstEvent, stream: "t" }]);
    expect((await store.readStream("t")).map((e) => e.id)).toEqual([
      confirmed[3]!.id,
      confirmed[4]!.id,
      first.id,
    ]);
    await local.addPending("s", [{ ...pendingEvent!, stream: "s" }]);
    await local.applyConfirmed("t", [{ ...pendingEvent!, position: 4, recordedAt: 60 }]);
    expect(await local.readPending("t")).toEqual([]);
    expect((await local.readPending("s")).map((entry) => entry.event.id)).toEqual([
      pendingEvent!.id,
    ]);
    // The unique indexes hold as before.
    const [row] = await store.db.events.where("seq").equals(1).toArray();
    for (const clash of [
      { id: "x", seq: 99 },
      { id: "y", stream: "u", position: 1 },
    ]) {
      const error = await store.db.events.add({ ...row!, ...clash }).catch((e: unknown) => e);
      expect((error as Error).name).toBe("ConstraintError");
    }
    await store.close();
  });
}

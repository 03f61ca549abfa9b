// Node tier: the schema's upgrade path. Version 2 (unique commit sequence and stream positions)
// opens a database left at version 1 with its rows; versions 3-4 (ids unique per stream) open
// one left at version 2 (upgrade.cases.ts, also run on Chromium); and a later version, declared
// the way a future release would (a new index, rows rewritten in the upgrade), opens the current
// one: every row survives, the upgrade runs once, the store works on.

import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { DexieEventStore } from "./dexie-store.ts";
import { ChronicleDb, schemaVersions } from "./schema.ts";
import { upgradeCases } from "./upgrade.cases.ts";

upgradeCases("fake-indexeddb", () => ({ indexedDB: new IDBFactory(), IDBKeyRange }));

const latest = schemaVersions.at(-1)!.version;

it("upgrades a version-1 database: rows kept, the positions and sequence unique", async () => {
  const indexedDB = new IDBFactory();
  const v1Db = new ChronicleDb("v1", { indexedDB, IDBKeyRange }, schemaVersions.slice(0, 1));
  const v1 = new DexieEventStore({ db: v1Db });
  await v1.append("s", sampleEvents("s", 3));
  await v1.append("t", sampleEvents("t", 2));
  expect(v1.canWriteAt).toBe(false); // version 1 cannot refuse a stale write by itself
  await v1.close();
  v1Db.close();

  const store = new DexieEventStore({ name: "v1", indexedDB, IDBKeyRange });
  expect((await store.readStream("s")).map((event) => event.position)).toEqual([1, 2, 3]);
  expect(store.db.verno).toBe(latest);
  expect(store.canWriteAt).toBe(true);
  // A row that repeats a stream position, or a commit sequence, is refused.
  const [row] = await store.db.events.where("seq").equals(5).toArray();
  const copy = { ...row!, id: "copy" };
  for (const clash of [{ seq: 99 }, { stream: "other", position: 1 }]) {
    const error = await store.db.events.add({ ...copy, ...clash }).catch((e: unknown) => e);
    expect((error as Error).name).toBe("ConstraintError");
  }
  const appended = await store.append("t", sampleEvents("t", 1, "after"));
  expect(appended.head).toBe(3);
  expect((await store.readAll()).map((entry) => entry.checkpoint)).toEqual([1, 2, 3, 4, 5, 6]);
  await store.close();
});

it("upgrades a version-1 database to a later schema, keeping every event, pending row and meta", async () => {
  const indexedDB = new IDBFactory();
  const v1 = new DexieEventStore({ name: "upgrade", indexedDB, IDBKeyRange });
  await v1.append("s", sampleEvents("s", 3));
  const [pendingEvent] = sampleEvents("s", 1, "p");
  await v1.db.pending.add({ id: pendingEvent!.id, stream: "s", event: pendingEvent! });
  const device = (await v1.db.meta.get("device"))?.value;
  await v1.close();
  v1.db.close();

  let upgrades = 0;
  const current = schemaVersions.at(-1)!;
  const later = current.version + 1;
  const next = [
    ...schemaVersions,
    {
      version: later,
      stores: {
        ...current.stores,
        pending: "++localSeq, id, [stream+localSeq], stream",
      },
      upgrade: async (tx: import("dexie").Transaction) => {
        upgrades++;
        await tx.table("meta").put({ key: "migrated", value: true });
      },
    },
  ];
  const db = new ChronicleDb("upgrade", { indexedDB, IDBKeyRange }, next);
  await db.open();
  expect(db.verno).toBe(later);
  expect(upgrades).toBe(1);
  expect((await db.meta.get("device"))?.value).toBe(device); // not populated again
  expect((await db.meta.get("migrated"))?.value).toBe(true);
  expect(await db.pending.where("stream").equals("s").count()).toBe(1); // the new index
  const v2 = new DexieEventStore({ db });
  expect((await v2.readStream("s")).map((e) => e.position)).toEqual([1, 2, 3]);
  await v2.append("s", sampleEvents("s", 1, "after"));
  expect(await v2.head("s")).toBe(4);
  await v2.close();
  db.close();

  // Opening it again at that version runs no upgrade.
  const again = new ChronicleDb("upgrade", { indexedDB, IDBKeyRange }, next);
  await again.open();
  expect(upgrades).toBe(1);
  again.close();
});

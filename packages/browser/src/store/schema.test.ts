// Node tier: the schema's upgrade path. Only version 1 has shipped, so this declares a version 2
// the way a later release would (a new index, rows rewritten in the upgrade) and opens a
// version-1 database with it: every row survives, the upgrade runs once, the store works on.
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { DexieEventStore } from "./dexie-store.ts";
import { ChronicleDb, schemaVersions } from "./schema.ts";

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
  const next = [
    ...schemaVersions,
    {
      version: 2,
      stores: {
        ...schemaVersions[0]!.stores,
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
  expect(db.verno).toBe(2);
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

  // Opening it again at version 2 runs no upgrade.
  const again = new ChronicleDb("upgrade", { indexedDB, IDBKeyRange }, next);
  await again.open();
  expect(upgrades).toBe(1);
  again.close();
});

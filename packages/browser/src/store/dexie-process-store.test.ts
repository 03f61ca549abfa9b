// Node tier: the ProcessStore contract on fake-indexeddb, and change notices.
import {
  runProcessStoreContract,
  sampleInstance,
} from "@chronicle/core/testing/process-store-contract";
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { DexieProcessStore } from "./dexie-process-store.ts";
import { DexieEventStore } from "./dexie-store.ts";
import { ChronicleDb, schemaVersions } from "./schema.ts";

let databases = 0;
const fresh = () =>
  new DexieProcessStore(
    new ChronicleDb(`processes-${++databases}`, { indexedDB: new IDBFactory(), IDBKeyRange }),
    { broadcast: false },
  );

runProcessStoreContract("DexieProcessStore (fake-indexeddb)", { makeStore: fresh });

it("tells listeners after each commit, not after a refused one", async () => {
  const store = fresh();
  let heard = 0;
  const stop = store.onChange(() => heard++);
  await store.commit({ instance: { record: sampleInstance("p", "i"), expectedRevision: 0 } });
  expect(heard).toBe(1);
  await expect(
    store.commit({ instance: { record: sampleInstance("p", "i"), expectedRevision: 0 } }),
  ).rejects.toMatchObject({ code: "concurrency" });
  expect(heard).toBe(1);
  stop();
  await store.commit({ consumer: { name: "process:p", checkpoint: 1 } });
  expect(heard).toBe(1);
  store.close();
  store.db.close();
});

it("a version-4 database upgrades to the process tables, its events kept", async () => {
  const indexedDB = new IDBFactory();
  const v4 = schemaVersions.filter((entry) => entry.version <= 4);
  const old = new DexieEventStore({
    db: new ChronicleDb("upgrade-5", { indexedDB, IDBKeyRange }, v4),
  });
  await old.append("s", sampleEvents("s", 2));
  expect(old.db.verno).toBe(4);
  await old.close();
  old.db.close();

  const db = new ChronicleDb("upgrade-5", { indexedDB, IDBKeyRange });
  const store = new DexieEventStore({ db });
  expect((await store.readStream("s")).map((event) => event.position)).toEqual([1, 2]);
  expect(db.verno).toBe(schemaVersions.at(-1)!.version);
  const processes = new DexieProcessStore(db, { broadcast: false });
  expect(await processes.instances()).toEqual([]);
  await processes.commit({ instance: { record: sampleInstance("p", "i"), expectedRevision: 0 } });
  expect(await processes.instance("p", "i")).toEqual(sampleInstance("p", "i"));
  await store.close();
  db.close();
});

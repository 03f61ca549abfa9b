// Node tier: DexieEventStore.writeAt against another writer, on fake-indexeddb (see the cases).
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { DexieEventStore } from "./dexie-store.ts";
import { writeAtCases } from "./write-at.cases.ts";

const indexedDB = new IDBFactory();

writeAtCases(
  "fake-indexeddb",
  (name) => new DexieEventStore({ name, indexedDB, IDBKeyRange, broadcast: false }),
);

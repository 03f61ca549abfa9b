// Browser tier: the ProcessStore contract on Chromium's IndexedDB.
import { runProcessStoreContract } from "@chronicle/core/testing/process-store-contract";
import { DexieProcessStore } from "./dexie-process-store.ts";
import { ChronicleDb } from "./schema.ts";

const run = crypto.randomUUID().slice(0, 8);
let databases = 0;

runProcessStoreContract("DexieProcessStore (Chromium IndexedDB)", {
  makeStore: () => new DexieProcessStore(new ChronicleDb(`processes-${run}-${++databases}`)),
});

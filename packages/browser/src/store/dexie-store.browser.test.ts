// Browser tier: the store contract suite on Chromium's IndexedDB.
import { runEventStoreContract } from "@chronicle/core/testing/store-contract";
import { DexieEventStore } from "./dexie-store.ts";

const run = crypto.randomUUID().slice(0, 8);
let databases = 0;

runEventStoreContract("DexieEventStore (Chromium IndexedDB)", {
  makeStore: ({ now }) => new DexieEventStore({ name: `contract-${run}-${++databases}`, now }),
});

// Browser tier: core's LocalLog contract on Chromium's IndexedDB.
import { runLocalLogContract } from "@chronicle/core/testing/local-log-contract";
import { DexieLocalLog } from "./dexie-local-log.ts";
import { DexieEventStore } from "./dexie-store.ts";

const run = crypto.randomUUID().slice(0, 8);
let databases = 0;

runLocalLogContract("DexieLocalLog (Chromium IndexedDB)", {
  makeLog: () =>
    new DexieLocalLog(new DexieEventStore({ name: `local-log-${run}-${++databases}` })),
});

// Browser tier: DexieEventStore.writeAt against another writer, on Chromium's IndexedDB (an
// explicit commit() while a request fails must still abort the whole transaction).
import { DexieEventStore } from "./dexie-store.ts";
import { writeAtCases } from "./write-at.cases.ts";

writeAtCases("Chromium IndexedDB", (name) => new DexieEventStore({ name, broadcast: false }));

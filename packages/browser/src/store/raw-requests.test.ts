// Node tier: writeMany on fake-indexeddb (see the cases).
import { IDBFactory } from "fake-indexeddb";
import { writeManyCases } from "./raw-requests.cases.ts";

writeManyCases("fake-indexeddb", () => new IDBFactory());

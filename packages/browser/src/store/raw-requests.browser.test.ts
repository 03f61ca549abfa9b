// Browser tier: writeMany on Chromium's IndexedDB (see the cases).
import { writeManyCases } from "./raw-requests.cases.ts";

writeManyCases("Chromium IndexedDB", () => indexedDB);

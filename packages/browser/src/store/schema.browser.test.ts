// Browser tier: the schema's upgrade of a database left at version 2 (ids unique per database)
// on Chromium's IndexedDB; see upgrade.cases.ts.
import { upgradeCases } from "./upgrade.cases.ts";

upgradeCases("Chromium IndexedDB", () => ({}));

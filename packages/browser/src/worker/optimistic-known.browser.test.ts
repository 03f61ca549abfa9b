// Browser tier: synced commands on a kept view never commit on a view the log moved under, on
// Chromium's IndexedDB; see optimistic-known.cases.ts.
import { staleViewCases } from "./optimistic-known.cases.ts";

staleViewCases("Chromium IndexedDB", () => ({}));

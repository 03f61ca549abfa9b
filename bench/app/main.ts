// internal: not exported. The main-thread module of the browser benchmarks, built for production
// (bench/prod-build.ts): what an app's page bundles of Chronicle.
export { createChronicle } from "@chronicle/browser";
export { itemAdded, tally, tallyView } from "./tally.ts";

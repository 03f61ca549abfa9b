// `npm run bench`: benchmarks are Vitest files that measure and print tables (they assert
// nothing about speed). One project per runtime, like the test tiers.
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

const tiers = ["bench/vitest.node.config.ts", "bench/vitest.browser.config.ts"].filter((file) =>
  existsSync(file),
);

// One benchmark file at a time within a project; bench/run.mjs runs the projects one after the
// other (on a 2-core machine, a browser benchmark beside a 1,000,000-event Node loop measures the
// contention, not the engine).
export default defineConfig({ test: { projects: tiers, maxWorkers: 1, fileParallelism: false } });

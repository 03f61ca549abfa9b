// `npm run bench`: benchmarks are Vitest files that measure and print tables (they assert
// nothing about speed). One project per runtime, like the test tiers.
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

const tiers = ["bench/vitest.node.config.ts", "bench/vitest.browser.config.ts"].filter((file) =>
  existsSync(file),
);

export default defineConfig({ test: { projects: tiers } });

// The root config: one project per tier. List leaf configs only (nested projects are not expanded).
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

const tiers = [
  "vitest.node.config.ts",
  "vitest.browser.config.ts",
  "vitest.workerd.config.ts",
  "vitest.e2e.config.ts",
  "vitest.consumer.config.ts",
  "vitest.react18.config.ts",
].filter((file) => existsSync(new URL(file, import.meta.url)));

export default defineConfig({
  test: {
    projects: tiers,
  },
});

// The root config: one project per tier. List leaf configs only (nested projects are not expanded).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      "vitest.node.config.ts",
      "vitest.browser.config.ts",
      "vitest.workerd.config.ts",
      "vitest.e2e.config.ts",
      "vitest.consumer.config.ts",
      "vitest.react18.config.ts",
    ],
  },
});

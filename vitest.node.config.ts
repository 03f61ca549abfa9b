// Node tier: fast tests of core, the protocol, and anything that runs on fakes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "node",
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/src/**/*.test.tsx",
      "worker/src/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    exclude: [
      "**/*.browser.test.ts",
      "**/*.workerd.test.ts",
      "**/*.e2e.test.ts",
      "**/node_modules/**",
    ],
    environment: "node",
  },
});

// Node tier: fast tests of core, the protocol, and anything that runs on fakes.
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "./scripts/workspace-aliases.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    name: "node",
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/src/**/*.test.tsx",
      "worker/src/**/*.test.ts",
      "test/**/*.test.ts",
      "examples/**/*.test.ts",
      "demo/src/**/*.test.tsx",
    ],
    exclude: [
      "**/*.browser.test.ts",
      "**/*.workerd.test.ts",
      "**/*.e2e.test.ts",
      "**/*.consumer.test.ts",
      // Files the README tests generate (test/readme-code.ts) are theirs to run, not the tier's.
      "test/output/**",
      "**/node_modules/**",
    ],
    environment: "node",
    // Scheduling (see vitest.config.ts): the light tiers run after the browser and e2e tiers, two
    // files at a time.
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
    setupFiles: ["test/fixed-seed.setup.ts"],
    // `npm test` runs every tier at once on a 2-core machine: an integration test that takes
    // 3 s alone (the undo property test: 40 runs of two engines and a node) can take more than
    // the default 5 s then. A hang still fails, later.
    testTimeout: 30_000,
  },
});

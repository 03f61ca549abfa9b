// The root config: one project per tier. List leaf configs only (nested projects are not expanded).
//
// Scheduling on a 2-core machine (Vitest groups projects by `sequence.groupOrder`): group 0 runs the
// browser tier (its own pool) beside the e2e tier, one file each at a time; group 1 then runs the
// light tiers (node, react18, consumer) two files at a time; workerd (one file at a time) last.
// Before, the node tier ran alone after e2e with one core idle. Three heavy files at once (root
// `maxWorkers: 2`) overloads the machine: keep two lanes.
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

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "bench-node",
    include: ["**/*.node.bench.ts"],
    testTimeout: 600_000,
    disableConsoleIntercept: true,
    fileParallelism: false,
  },
});

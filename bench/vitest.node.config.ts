import { defineConfig } from "vitest/config";
import { workspaceAliases } from "../scripts/workspace-aliases.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    name: "bench-node",
    include: ["**/*.node.bench.ts"],
    testTimeout: 600_000,
    disableConsoleIntercept: true,
    fileParallelism: false,
  },
});

// workerd tier: the sync node inside the real Workers runtime (Workers Vitest pool), with the
// node's own wrangler.toml. Storage is isolated per test file.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "./scripts/workspace-aliases.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  plugins: [
    cloudflareTest({
      main: "./worker/main.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          CHRONICLE_SECRET: "workerd-test-secret",
          CHRONICLE_DEV: "1",
          // A burst small enough for the rate-limit test to pass, large enough for every other
          // test. A refill this slow keeps that test exact however loaded the machine: its 40
          // frames past the burst would need 40 s to earn their tokens.
          RATE_LIMIT_PER_SECOND: "1",
          RATE_LIMIT_BURST: "80",
        },
      },
    }),
  ],
  test: {
    name: "workerd",
    // One file at a time: `abortAllDurableObjects` (hibernation and rules tests) reaches the
    // objects of every file in the runtime, and a file running beside it must not share that
    // moment.
    fileParallelism: false,
    include: ["worker/src/**/*.workerd.test.ts", "worker/test/**/*.workerd.test.ts"],
  },
});

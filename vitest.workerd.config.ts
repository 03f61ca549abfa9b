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
          // Rate limits count every request of a subject on a stream (frames, HTTP calls,
          // upgrades); most test files use one subject, so the env allows plenty. The rate-limit
          // tests set small limits of their own through createSyncNode({ limits }).
          RATE_LIMIT_PER_SECOND: "1",
          RATE_LIMIT_BURST: "100000",
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

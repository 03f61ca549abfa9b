// End-to-end tier: real sync nodes (`wrangler dev` processes, killed for real) and Node clients
// over real WebSockets (the `ws` package).
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "./scripts/workspace-aliases.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    name: "e2e",
    include: ["test/**/*.e2e.test.ts"],
    environment: "node",
    // Starting wrangler dev takes a few seconds; the tests themselves await frames, not time.
    hookTimeout: 60_000,
    testTimeout: 60_000,
    // The demo's pages reload, reopen IndexedDB and resync; on a loaded machine that can take more
    // than expect.poll's default second. The assertions are unchanged, only how long they wait.
    expect: { poll: { timeout: 15_000 } },
  },
});

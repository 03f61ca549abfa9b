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
    // Two files at a time (Vitest's default on 2 cores is one): an e2e file mostly waits on its
    // own wrangler dev and Chromium, so two of them side by side halve the tier's wall time.
    maxWorkers: 2,
    // A project with its own maxWorkers needs a group of its own: the e2e files run after the
    // other tiers (group 0), as they did before.
    sequence: { groupOrder: 1 },
    // Starting wrangler dev takes a few seconds; the tests themselves await frames, not time.
    hookTimeout: 60_000,
    testTimeout: 60_000,
    // The demo's pages reload, reopen IndexedDB and resync; on a loaded machine that can take more
    // than expect.poll's default second. The assertions are unchanged, only how long they wait.
    expect: { poll: { timeout: 15_000 } },
  },
});

// internal: not exported. Global setup of the browser benchmarks: the bench's own sync node
// (bench/sync-node/index.ts in workerd, state in a temporary directory), which keeps snapshots of
// the bench app's decider and projection for new devices, as an app's node does. The page
// reaches it at `inject("benchNode")`; it is stopped when the run ends.
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startLocalNode } from "./local-node.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The bench node's base URL and a dev token that may write every stream. */
    benchNode: { url: string; token: string };
  }
}

/** Starts the node and provides its URL and token; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await startLocalNode(
    fileURLToPath(new URL("./sync-node.wrangler.toml", import.meta.url)),
  );
  project.provide("benchNode", { url: node.base, token: node.token });
  return () => node.dispose();
}

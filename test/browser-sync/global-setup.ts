// Global setup of the browser tier: one real sync node (`wrangler dev`, state in a temporary
// directory) for the browser tests that sync, with dev tokens for two users. The page reaches
// it at `inject("syncNode")`; the node is stopped when the run ends. The second node, which runs
// processes (process-node.global-setup.ts), starts at the same time.
import type { TestProject } from "vitest/node";
import { startTierNode, type TierNode } from "./node-for-tier.ts";
import { setupProcessNode } from "./process-node.global-setup.ts";

/** The node's base URL, and dev tokens with write access to every stream. */
export type SyncNodeInfo = TierNode<"alice" | "bob">;

declare module "vitest" {
  export interface ProvidedContext {
    syncNode: SyncNodeInfo;
  }
}

/**
 * Starts the node, and the processes node (./process-node.global-setup.ts) at the same time, and
 * provides their URLs and tokens; returns the teardown of both.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled([
    startTierNode("browser-sync", ["alice", "bob"], (node) => project.provide("syncNode", node)),
    setupProcessNode(project),
  ]);
  const teardowns = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const teardown = async () => {
    await Promise.all(teardowns.map((stop) => stop()));
  };
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await teardown();
    throw failed.reason;
  }
  return teardown;
}

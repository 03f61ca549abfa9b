// Global setup of the browser tier: one real sync node (`wrangler dev`, state in a temporary
// directory) for the browser tests that sync, with dev tokens for two users. The page reaches
// it at `inject("syncNode")`; the node is stopped when the run ends.
import type { TestProject } from "vitest/node";
import { startTierNode, type TierNode } from "./node-for-tier.ts";

/** The node's base URL, and dev tokens with write access to every stream. */
export type SyncNodeInfo = TierNode<"alice" | "bob">;

declare module "vitest" {
  export interface ProvidedContext {
    syncNode: SyncNodeInfo;
  }
}

/** Starts the node and provides its URL and tokens; returns the teardown. */
export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return startTierNode("browser-sync", ["alice", "bob"], (node) =>
    project.provide("syncNode", node),
  );
}

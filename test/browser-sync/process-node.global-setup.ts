// Part of the browser tier's global setup: a second real sync node (`wrangler dev`, state in a
// temporary directory) that runs the order-fulfilment example's process
// (worker/test/processes-node.ts), for the browser test of two devices watching an order
// (test/browser-sync/order-devices.browser.test.ts). The page reaches it at
// `inject("processNode")`; the node is stopped when the run ends.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startTierNode, type TierNode } from "./node-for-tier.ts";

/** The node's base URL, and dev tokens with write access to every stream (and process reads). */
export type ProcessNodeInfo = TierNode<"till" | "ops">;

declare module "vitest" {
  export interface ProvidedContext {
    processNode: ProcessNodeInfo;
  }
}

const config = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../worker/test/processes-node.wrangler.toml",
);

/**
 * Starts the processes node and provides its URL and tokens; returns the teardown. Started by
 * ./global-setup.ts beside the tier's other node, at once (each takes ~3 s).
 */
export function setupProcessNode(project: TestProject): Promise<() => Promise<void>> {
  return startTierNode(
    "browser-processes",
    ["till", "ops"],
    (node) => project.provide("processNode", node),
    {
      config,
      vars: { CHRONICLE_SECRET: "browser-process-secret-at-least-32-bytes!", CHRONICLE_DEV: "1" },
    },
  );
}

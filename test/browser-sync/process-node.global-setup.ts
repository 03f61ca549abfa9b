// Global setup of the browser tier: a second real sync node (`wrangler dev`, state in a
// temporary directory) that runs the order-fulfilment example's process
// (worker/test/processes-node.ts), for the browser test of two devices watching an order
// (test/browser-sync/order-devices.browser.test.ts). The page reaches it at
// `inject("processNode")`; the node is stopped when the run ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { devToken, startNode } from "../sync-node/node-process.ts";

export interface ProcessNodeInfo {
  /** The node's base URL (http://127.0.0.1:<port>). */
  url: string;
  /** Dev tokens with write access to every stream (and reads of the node's processes). */
  tokens: { till: string; ops: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    processNode: ProcessNodeInfo;
  }
}

const config = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../worker/test/processes-node.wrangler.toml",
);

/** Starts the processes node and provides its URL and tokens; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const persistTo = mkdtempSync(join(tmpdir(), "chronicle-browser-processes-"));
  const node = await startNode({
    persistTo,
    config,
    vars: { CHRONICLE_SECRET: "browser-process-secret-at-least-32-bytes!", CHRONICLE_DEV: "1" },
  });
  try {
    project.provide("processNode", {
      url: node.url,
      tokens: { till: await devToken(node, "till"), ops: await devToken(node, "ops") },
    });
  } catch (error) {
    await node.stop();
    throw error;
  }
  return async () => {
    await node.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
}

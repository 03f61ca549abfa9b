// Global setup of the browser tier: one real sync node (`wrangler dev`, state in a temporary
// directory) for the browser tests that sync, with dev tokens for two users. The page reaches
// it at `inject("syncNode")`; the node is stopped when the run ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { devToken, startNode } from "../sync-node/node-process.ts";

export interface SyncNodeInfo {
  /** The node's base URL (http://127.0.0.1:<port>). */
  url: string;
  /** Dev tokens with write access to every stream. */
  tokens: { alice: string; bob: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    syncNode: SyncNodeInfo;
  }
}

/** Starts the node and provides its URL and tokens; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const persistTo = mkdtempSync(join(tmpdir(), "chronicle-browser-sync-"));
  const node = await startNode({ persistTo });
  try {
    project.provide("syncNode", {
      url: node.url,
      tokens: { alice: await devToken(node, "alice"), bob: await devToken(node, "bob") },
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

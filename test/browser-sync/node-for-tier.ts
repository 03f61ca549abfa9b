// internal: test helper. What the browser tier's global setups share: a real sync node
// (`wrangler dev`, state in a temporary directory), its URL and a dev token per user handed to
// the pages, and a teardown that stops it and removes its state.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devToken, type StartOptions, startNode } from "../sync-node/node-process.ts";

/** A node the pages reach: its base URL and a dev token (write access) per user. */
export interface TierNode<User extends string> {
  /** The node's base URL (http://127.0.0.1:<port>). */
  url: string;
  tokens: Record<User, string>;
}

/**
 * Starts a node (`options` but where it persists), gives `provide` its URL and the users'
 * tokens, and returns the teardown.
 */
export async function startTierNode<User extends string>(
  name: string,
  users: readonly User[],
  provide: (node: TierNode<User>) => void,
  options: Omit<StartOptions, "persistTo"> = {},
): Promise<() => Promise<void>> {
  const persistTo = mkdtempSync(join(tmpdir(), `chronicle-${name}-`));
  const node = await startNode({ ...options, persistTo });
  try {
    const tokens = {} as Record<User, string>;
    for (const user of users) tokens[user] = await devToken(node, user);
    provide({ url: node.url, tokens });
  } catch (error) {
    await node.stop();
    throw error;
  }
  return async () => {
    await node.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
}

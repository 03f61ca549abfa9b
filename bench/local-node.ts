// internal: not exported. Starts the sync node in workerd for a benchmark (wrangler's
// startWorker, offline, state in a temporary directory) and gets a dev token for it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_startWorker } from "wrangler";

process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

export interface LocalNode {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** A dev token for subject "bench" that may write every stream. */
  token: string;
  dispose(): Promise<void>;
}

export async function startLocalNode(config: string): Promise<LocalNode> {
  const stateDir = mkdtempSync(join(tmpdir(), "chronicle-bench-"));
  const worker = await unstable_startWorker({
    config,
    dev: {
      server: { hostname: "127.0.0.1", port: 0 },
      inspector: false,
      persist: stateDir,
      watch: false,
      remote: false,
      logLevel: "warn",
    },
  });
  const url = await worker.url;
  const base = `${url.protocol}//${url.host}`;
  const response = await fetch(`${base}/v1/dev/token`, {
    method: "POST",
    body: JSON.stringify({ sub: "bench", streams: { "*": "write" } }),
  });
  const { token } = (await response.json()) as { token: string };
  return {
    base,
    token,
    async dispose() {
      await worker.dispose();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

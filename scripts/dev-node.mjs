#!/usr/bin/env node
// `npm run dev:node`: the sync node in workerd through `wrangler dev`, offline, on
// http://127.0.0.1:8787 (CHRONICLE_NODE_PORT to change it), with local Durable Object state in
// .wrangler/state so it persists across restarts. Extra arguments go to wrangler
// (`npm run dev:node -- --persist-to /tmp/node`). Ctrl-C stops wrangler and its workerd and
// esbuild children: they run in their own process group, which is signalled as a whole.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDependencies } from "./ensure.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureDependencies();

// The wrangler of this repo's lockfile (node_modules), never a global or a download.
const wrangler = join(
  dirname(createRequire(join(root, "package.json")).resolve("wrangler/package.json")),
  "bin/wrangler.js",
);
const port = process.env.CHRONICLE_NODE_PORT ?? "8787";
const args = [
  wrangler,
  "dev",
  "--config",
  "wrangler.toml",
  "--ip",
  "127.0.0.1",
  "--port",
  port,
  "--persist-to",
  ".wrangler/state",
  "--show-interactive-dev-session=false",
  ...process.argv.slice(2),
];

const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: "inherit",
  detached: true,
  env: {
    ...process.env,
    // Offline: no telemetry, no fetch of Cloudflare's cf.json (DNS errors without network).
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  },
});

let signals = 0;
function stop() {
  signals += 1;
  try {
    // First signal: let wrangler shut workerd down cleanly; a second one ends the group now.
    process.kill(-child.pid, signals === 1 ? "SIGINT" : "SIGKILL");
  } catch {
    // The group is already gone.
  }
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);

child.on("exit", (code, signal) => {
  if (signals === 0) console.error(`[chronicle] wrangler dev exited (${code ?? signal})`);
  process.exit(signals > 0 ? 0 : (code ?? 1));
});

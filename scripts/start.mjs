#!/usr/bin/env node
// `npm start`: installs what is missing, then runs the local sync
// node (wrangler dev, offline) and the demo (Vite) together; Ctrl-C stops both.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDependencies } from "./ensure.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
ensureDependencies();

const children = [];
function start(label, command, args, extraEnv = {}) {
  const child = spawn(command, args, {
    cwd: root,
    stdio: "inherit",
    detached: true,
    env: { ...process.env, ...extraEnv },
  });
  child.on("exit", (code) => {
    console.log(`[chronicle] ${label} exited (${code})`);
    stopAll(code ?? 0);
  });
  children.push(child);
}

let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Each child leads its own process group: signal the group so workerd/esbuild go too.
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {}
  }
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

console.log("[chronicle] starting the local sync node on http://127.0.0.1:8787 (Ctrl-C stops it)");
start("sync node", process.execPath, ["scripts/dev-node.mjs"]);
console.log("[chronicle] starting the demo on http://127.0.0.1:5173 (open it in a browser)");
start("demo", "npx", [
  "vite",
  "--config",
  "demo/vite.config.ts",
  "--host",
  "127.0.0.1",
  "--port",
  "5173",
]);

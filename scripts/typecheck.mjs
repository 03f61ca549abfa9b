#!/usr/bin/env node
// `npm run typecheck`: each tsconfig on its own, so each package is checked with exactly the
// libraries its runtime has (core: no DOM, no Node; worker: Workers types; browser: DOM).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const requireFromRoot = createRequire(join(root, "package.json"));
const tsc = join(dirname(requireFromRoot.resolve("typescript/package.json")), "bin/tsc");
const projects = [
  "packages/core/tsconfig.json",
  "packages/sync/tsconfig.json",
  "packages/browser/tsconfig.json",
  "packages/react/tsconfig.json",
  "worker/tsconfig.json",
  "demo/tsconfig.json",
  "tsconfig.tests.json",
].filter((project) => existsSync(join(root, project)));

// tsc runs on one core: check as many projects at once as there are cores, each one's output
// printed whole when it ends (the slowest project alone sets the wall time).
function check(project) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, "--noEmit", "-p", project], { cwd: root });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (status) => {
      process.stdout.write(output);
      if (status !== 0) console.error(`typecheck failed: ${project}`);
      resolve(status === 0);
    });
  });
}

let failed = false;
const waiting = [...projects];
await Promise.all(
  Array.from({ length: Math.min(availableParallelism(), waiting.length) }, async () => {
    for (let project = waiting.shift(); project; project = waiting.shift()) {
      if (!(await check(project))) failed = true;
    }
  }),
);
// The node's generated Workers types must match wrangler.toml (bindings, vars, compatibility date
// and flags): `wrangler types --check` fails on a stale file, offline. The env types and the
// runtime types are two files, so that the package builds with the runtime types alone.
const wrangler = join(dirname(requireFromRoot.resolve("wrangler/package.json")), "bin/wrangler.js");
const generated = [
  ["--include-runtime=false", "worker-configuration.d.ts"],
  ["--include-env=false", "worker-runtime.d.ts"],
].filter(([, file]) => existsSync(join(root, "worker", file)));
for (const [include, file] of generated) {
  const result = spawnSync(
    process.execPath,
    [wrangler, "types", "--config", "../wrangler.toml", include, file, "--check"],
    {
      cwd: join(root, "worker"),
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      // No banner (its update check goes to the network) and no telemetry.
      env: { ...process.env, WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" },
    },
  );
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    console.error(
      `typecheck failed: worker/${file} is stale; regenerate it with` +
        ` \`cd worker && npx wrangler types --config ../wrangler.toml ${include} ${file}\``,
    );
    failed = true;
  }
}

if (failed) process.exit(1);
console.log(`typecheck ok (${projects.length} projects, ${generated.length} generated type files)`);

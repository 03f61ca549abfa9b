#!/usr/bin/env node
// `npm run typecheck`: each tsconfig on its own, so each package is checked with exactly the
// libraries its runtime has (core: no DOM, no Node; worker: Workers types; browser: DOM).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const projects = [
  "packages/core/tsconfig.json",
  "packages/sync/tsconfig.json",
  "packages/browser/tsconfig.json",
  "packages/react/tsconfig.json",
  "worker/tsconfig.json",
  "demo/tsconfig.json",
  "tsconfig.tests.json",
].filter((project) => existsSync(join(root, project)));

let failed = false;
for (const project of projects) {
  const result = spawnSync("npx", ["tsc", "--noEmit", "-p", project], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error(`typecheck failed: ${project}`);
    failed = true;
  }
}
// The node's generated Workers types must match wrangler.toml (bindings, vars, compatibility date
// and flags): `wrangler types --check` fails on a stale file, offline. The env types and the
// runtime types are two files, so that the package builds with the runtime types alone.
const wrangler = join(
  dirname(createRequire(join(root, "package.json")).resolve("wrangler/package.json")),
  "bin/wrangler.js",
);
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

#!/usr/bin/env node
// `npm run typecheck`: each tsconfig on its own, so each package is checked with exactly the
// libraries its runtime has (core: no DOM, no Node; worker: Workers types; browser: DOM).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
if (failed) process.exit(1);
console.log(`typecheck ok (${projects.length} projects)`);

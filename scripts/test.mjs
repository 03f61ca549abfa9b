#!/usr/bin/env node
// `npm test`: install what is missing, lint (Biome + dependency boundaries), typecheck, build the
// API reference (typedoc: any warning, e.g. an undocumented export, fails), then run every Vitest
// project from the root config, writing a JSON report for .ci/run.
// Extra arguments go to vitest: `npm test -- packages/core`.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureChromium, ensureDependencies } from "./ensure.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const report = join(root, ".vitest-report.json");

function run(label, command, commandArgs, env = process.env) {
  console.log(`\n[chronicle] ${label}`);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: "inherit", env });
  if (result.status !== 0) {
    console.error(`[chronicle] ${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

ensureDependencies();
const env = { ...process.env };
env.CHROMIUM_PATH = ensureChromium();

rmSync(report, { force: true });
// The browser tier pre-bundles the workspace packages (optimizeDeps), and Vite does not notice
// when their sources change: start from a fresh bundle so the tests run the code on disk.
for (const dir of ["node_modules/.vite/vitest", "bench/node_modules/.vite/vitest"]) {
  rmSync(join(root, dir), { recursive: true, force: true });
}
if (args.length === 0 || process.env.CI) {
  run("lint", "npx", ["biome", "check", "."]);
  run("dependency boundaries", process.execPath, ["scripts/check-boundaries.mjs"]);
  run("typecheck", process.execPath, ["scripts/typecheck.mjs"]);
  run("API reference", "npx", ["typedoc"]);
}
run(
  "vitest",
  "npx",
  [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
    ...args,
  ],
  env,
);

#!/usr/bin/env node
// `npm test`: install what is missing, lint (Biome + dependency boundaries), typecheck, build the
// API reference (typedoc: any warning, e.g. an undocumented export, fails), then run every Vitest
// project from the root config, writing a JSON report for .ci/run.
// Extra arguments go to vitest: `npm test -- packages/core`.
import { spawn, spawnSync } from "node:child_process";
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

/** Runs the commands at once, printing each one's output whole when it ends; exits if any fails. */
async function runTogether(commands) {
  const results = await Promise.all(
    commands.map(
      ([label, command, commandArgs]) =>
        new Promise((resolve) => {
          const child = spawn(command, commandArgs, { cwd: root, env: process.env });
          let output = "";
          child.stdout.on("data", (chunk) => (output += chunk));
          child.stderr.on("data", (chunk) => (output += chunk));
          child.on("close", (status, signal) => {
            console.log(`\n[chronicle] ${label}`);
            process.stdout.write(output);
            if (status !== 0)
              console.error(`[chronicle] ${label} failed (exit ${status ?? signal})`);
            resolve(status ?? 1);
          });
        }),
    ),
  );
  const failed = results.find((status) => status !== 0);
  if (failed !== undefined) process.exit(failed);
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
  // Typecheck and typedoc at once: each leaves a core idle part of the time (typecheck's last
  // project, typedoc's one thread); together they take ~20% less than one after the other.
  await runTogether([
    ["typecheck", process.execPath, ["scripts/typecheck.mjs"]],
    ["API reference", "npx", ["typedoc"]],
  ]);
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

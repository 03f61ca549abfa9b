#!/usr/bin/env node
// Runs every benchmark once and prints their tables. Figures are ratios against a baseline
// measured in the same process, so a noisy machine shifts both sides alike.
//
// One project after the other: Vitest runs a browser project and a Node project side by side
// (each pool has its own workers), and on a 2-core machine a browser benchmark beside a
// 1,000,000-event Node loop measures the contention, not the engine. Arguments (a file, `-t`)
// go to both runs; a run with no matching file is not a failure.
//
// The browser benchmarks run on an on-disk Chromium profile (bench/output/chromium-profile-<pid>) and
// a production build of bench/app made from HEAD (bench/prod-build.ts). Environment:
// BENCH_SCALE=0.1 runs the browser benchmarks' counts at a tenth; BENCH_SOURCE=worktree builds
// the working tree instead of HEAD.
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
let status = 0;
for (const project of ["bench-node", "bench-browser"]) {
  const result = spawnSync(
    "npx",
    [
      "vitest",
      "run",
      "--config",
      "bench/vitest.config.ts",
      "--project",
      project,
      "--reporter=dot",
      "--passWithNoTests",
      ...args,
    ],
    {
      stdio: "inherit",
      env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=8192 --expose-gc" },
    },
  );
  status ||= result.status ?? 1;
}
process.exit(status);

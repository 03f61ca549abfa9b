#!/usr/bin/env node
// Runs every benchmark once and prints their tables. Figures are ratios against a baseline
// measured in the same process, so a noisy machine shifts both sides alike.
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const result = spawnSync(
  "npx",
  ["vitest", "run", "--config", "bench/vitest.config.ts", "--reporter=dot", ...args],
  {
    stdio: "inherit",
    env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=8192 --expose-gc" },
  },
);
process.exit(result.status ?? 1);

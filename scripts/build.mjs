#!/usr/bin/env node
// `npm run build`: each package to ESM JavaScript, `.d.ts` and source maps in its `dist/`, with
// `tsc` (one output file per source file, so bundlers tree-shake what an app does not import,
// and maps point at the exact line). Packages build in dependency order, each against the
// `dist/` of the ones before it (the build configs clear the `@chronicle/source` condition).
// tsc keeps `.ts` extensions in declaration files; they are rewritten to `.js` here, so the
// types resolve in any consumer's module resolution.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Workspace packages in dependency order. */
export const packageDirs = [
  "packages/core",
  "packages/sync",
  "packages/browser",
  "packages/react",
  "worker",
];

function declarationFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

const relativeTsSpecifier = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.tsx?(["'])/g;

/** Builds one package; returns its dist folder. */
export function buildPackage(dir) {
  const packageRoot = join(root, dir);
  const config = join(packageRoot, "tsconfig.build.json");
  if (!existsSync(config)) throw new Error(`${dir}: no tsconfig.build.json`);
  const dist = join(packageRoot, "dist");
  rmSync(dist, { recursive: true, force: true });
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", config], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`${dir}: tsc failed (exit ${result.status})`);
  for (const file of declarationFiles(dist)) {
    const text = readFileSync(file, "utf8");
    const rewritten = text.replace(relativeTsSpecifier, "$1$2.js$3");
    if (rewritten !== text) writeFileSync(file, rewritten);
  }
  return dist;
}

export function buildAll() {
  for (const dir of packageDirs) {
    if (!existsSync(join(root, dir, "tsconfig.build.json"))) continue;
    buildPackage(dir);
    console.log(`[chronicle] built ${dir}/dist`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildAll();
  } catch (error) {
    console.error(`[chronicle] build failed: ${error.message}`);
    process.exit(1);
  }
}

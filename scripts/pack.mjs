#!/usr/bin/env node
// `node scripts/pack.mjs <outDir>`: builds every package and packs it with `npm pack` into
// <outDir> (default `dist-packages/`), then prints `{ "<name>": "<tarball path>" }` as JSON on
// stdout. The tarballs are what an app installs: the consumer tests use exactly these.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPackage, packageDirs } from "./build.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Builds and packs every package into `outDir`; returns name -> absolute tarball path. */
export function packAll(outDir) {
  mkdirSync(outDir, { recursive: true });
  const tarballs = {};
  for (const dir of packageDirs) {
    const packageRoot = join(root, dir);
    const { name } = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8"));
    buildPackage(dir);
    const output = execFileSync(
      "npm",
      ["pack", "--json", "--pack-destination", outDir, "--ignore-scripts"],
      { cwd: packageRoot, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    const [packed] = JSON.parse(output);
    tarballs[name] = join(outDir, packed.filename);
  }
  return tarballs;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? join(root, "dist-packages"));
  const tarballs = packAll(outDir);
  process.stdout.write(`${JSON.stringify(tarballs, null, 2)}\n`);
}

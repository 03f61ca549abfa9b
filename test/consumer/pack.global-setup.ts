// Builds and packs every package once for the consumer tier, into a folder outside the
// workspace; the tests get the tarball paths with `await packedTarballs()` (./tarballs.ts).
// The packing (~15 s of tsc builds and `npm pack`) runs in the background: Vitest runs every
// project's global setup before any test, and the consumer tier runs late (group 1, see
// vitest.config.ts), so the browser and e2e tiers need not wait for it.
import { spawn } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * Where the packing writes its result when it ends: `{ tarballs }` (package name -> absolute
     * path of its packed tarball) or `{ error }`.
     */
    tarballsFile: string;
  }
}

const packScript = fileURLToPath(new URL("../../scripts/pack.mjs", import.meta.url));

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "chronicle-packs-"));
  const resultFile = join(dir, "tarballs.json");
  const child = spawn(process.execPath, [packScript, join(dir, "packs")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<void>((resolve) => {
    child.on("close", (status, signal) => {
      // Written whole under another name, then renamed: a reader never sees half a file.
      const result =
        status === 0
          ? { tarballs: JSON.parse(stdout) }
          : { error: `scripts/pack.mjs failed (${status ?? signal}):\n${stderr}` };
      writeFileSync(`${resultFile}.tmp`, JSON.stringify(result));
      renameSync(`${resultFile}.tmp`, resultFile);
      resolve();
    });
  });
  project.provide("tarballsFile", resultFile);
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await done;
    rmSync(dir, { recursive: true, force: true });
  };
}

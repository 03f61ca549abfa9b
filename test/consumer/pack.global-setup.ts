// Builds and packs every package once for the consumer tier, into a folder outside the
// workspace; the tests get the tarball paths with `inject("tarballs")`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { packAll } from "../../scripts/pack.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** Package name -> absolute path of its packed tarball. */
    tarballs: Record<string, string>;
  }
}

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "chronicle-packs-"));
  project.provide("tarballs", packAll(dir));
  return () => rmSync(dir, { recursive: true, force: true });
}

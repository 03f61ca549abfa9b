// internal: test helper. The packed tarballs of every package, once the consumer tier's global
// setup (pack.global-setup.ts), which packs in the background, has written them.
import { existsSync, readFileSync } from "node:fs";
import { inject } from "vitest";

/** Package name -> absolute path of its packed tarball; waits for the packing to end. */
export async function packedTarballs(): Promise<Record<string, string>> {
  const file = inject("tarballsFile");
  while (!existsSync(file)) await new Promise((resolve) => setTimeout(resolve, 100));
  const result = JSON.parse(readFileSync(file, "utf8")) as
    | { tarballs: Record<string, string> }
    | { error: string };
  if ("error" in result) throw new Error(result.error);
  return result.tarballs;
}

// The tarballs an app installs: publint and Are The Types Wrong pass for every package, and a
// tarball holds the built files, sources, README and LICENSE, and no tests or fixtures.
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packedTarballs } from "./tarballs.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const tarballs = await packedTarballs();

/** The tarball's files with their sizes (from `tar -tvzf`). */
function entries(tarball: string): { path: string; size: number }[] {
  const listing = execFileSync("tar", ["-tvzf", tarball], { encoding: "utf8" });
  return listing
    .trim()
    .split("\n")
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      return { size: Number(fields[2]), path: fields.slice(5).join(" ") };
    });
}

describe.each(Object.entries(tarballs))("%s", (name, tarball) => {
  it("passes publint (strict)", () => {
    const result = spawnSync(bin("publint"), ["run", tarball, "--strict"], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toContain("All good!");
    expect(result.status).toBe(0);
  });

  it("passes Are The Types Wrong (ESM only)", () => {
    const result = spawnSync(bin("attw"), [tarball, "--profile", "esm-only", "--format", "ascii"], {
      encoding: "utf8",
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it("holds dist, sources, README and LICENSE, and no tests", () => {
    const files = entries(tarball).map((entry) => entry.path.replace(/^package\//, ""));
    expect(files).toContain("LICENSE");
    expect(files).toContain("README.md");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("dist/index.d.ts");
    const unwanted = files.filter((file) =>
      /(\.test\.tsx?|\.cases\.ts|__fixtures__|tsconfig[^/]*\.json)$|__fixtures__\//.test(file),
    );
    expect(unwanted).toEqual([]);
    const unpacked = entries(tarball).reduce((sum, entry) => sum + entry.size, 0);
    console.log(
      `[consumer] ${name}: ${(statSync(tarball).size / 1024).toFixed(1)} KiB packed, ${(unpacked / 1024).toFixed(1)} KiB unpacked, ${files.length} files`,
    );
  });
});

// Inside this repository, tests, the demo and benchmarks run the packages from their sources, with
// no build step: every `exports` entry names its source file under the `@chronicle/source`
// condition, and these Vite aliases send each import of a workspace package there (TypeScript
// uses the same condition through `customConditions`; wrangler has an `[alias]` table).
// Outside the repository the condition is unknown and the built `dist/` files are used.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const packageDirs = [
  "packages/core",
  "packages/sync",
  "packages/browser",
  "packages/react",
  "worker",
];

export interface WorkspaceAlias {
  find: RegExp;
  replacement: string;
}

/** One exact-match alias per export subpath of every workspace package, to its source file. */
export function workspaceAliases(): WorkspaceAlias[] {
  const aliases: WorkspaceAlias[] = [];
  for (const dir of packageDirs) {
    const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
      name: string;
      exports?: Record<string, string | Record<string, string>>;
    };
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const source = typeof target === "string" ? undefined : target["@chronicle/source"];
      if (!source) continue;
      const specifier = manifest.name + subpath.slice(1);
      aliases.push({
        find: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`),
        replacement: join(root, dir, source),
      });
    }
  }
  return aliases;
}

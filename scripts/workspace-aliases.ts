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

/** A public entry point of a workspace package and its source file. */
export interface WorkspaceEntryPoint {
  /** What an app imports: `@chronicle/core/text`. */
  specifier: string;
  /** The absolute path of its source file. */
  file: string;
}

/** Every export subpath of every workspace package, with its source file. */
export function workspaceEntryPoints(): WorkspaceEntryPoint[] {
  return packageDirs.flatMap((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
      name: string;
      exports?: Record<string, string | Record<string, string>>;
    };
    return Object.entries(manifest.exports ?? {}).flatMap(([subpath, target]) => {
      const source = typeof target === "string" ? undefined : target["@chronicle/source"];
      return source
        ? [{ specifier: manifest.name + subpath.slice(1), file: join(root, dir, source) }]
        : [];
    });
  });
}

export interface WorkspaceAlias {
  find: RegExp;
  replacement: string;
}

/** One exact-match alias per export subpath of every workspace package, to its source file. */
export function workspaceAliases(): WorkspaceAlias[] {
  return workspaceEntryPoints().map(({ specifier, file }) => ({
    find: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`),
    replacement: file,
  }));
}

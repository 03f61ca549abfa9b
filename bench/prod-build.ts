// internal: not exported. The browser benchmarks run Chronicle as apps ship it: a production
// Vite build (minified, `mode: "production"`) of a main-thread module and a worker module
// (bench/app/), served as-is under `/__prod/` by the bench server (no dev transform).
//
// The packages are built from the last commit (`git archive HEAD`), not from the working tree:
// several people edit this tree at once, and a benchmark measures what is committed.
// BENCH_SOURCE=worktree builds the working tree instead.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "vite";
import type { TestProject } from "vitest/node";
import { workspaceAliases } from "../scripts/workspace-aliases.ts";

/** Where the build lands (bench/output is ignored by git). */
export const prodDir = fileURLToPath(new URL("./output/prod/", import.meta.url));
const appDir = fileURLToPath(new URL("./app/", import.meta.url));
/** The URL prefix the page loads the build from. */
export const prodPrefix = "/__prod/";

const root = fileURLToPath(new URL("..", import.meta.url));

declare module "vitest" {
  export interface ProvidedContext {
    /** What the production build was made of: "main@<commit>" or "working tree". */
    benchBuild: string;
  }
}

/**
 * The packages' sources at HEAD in a temporary directory (with this checkout's node_modules), and
 * the aliases that send each workspace package there.
 */
function checkoutHead(): {
  dir: string;
  commit: string;
  aliases: ReturnType<typeof workspaceAliases>;
} {
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root })
    .toString()
    .trim();
  const dir = mkdtempSync(join(tmpdir(), "chronicle-bench-head-"));
  const archive = execFileSync("git", ["archive", "HEAD", "packages", "worker", "tsconfig.json"], {
    cwd: root,
    maxBuffer: 1 << 30,
  });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const aliases = workspaceAliases().map(({ find, replacement }) => ({
    find,
    replacement: join(dir, replacement.slice(root.length)),
  }));
  return { dir, commit, aliases };
}

/**
 * Builds `main.js`, `bench.worker.js` and `follow.worker.js`, each one self-contained ES module;
 * returns what it built ("main@<commit>" or "working tree").
 */
export async function buildProd(): Promise<string> {
  mkdirSync(prodDir, { recursive: true });
  if (process.env.BENCH_SOURCE !== "worktree") {
    const head = checkoutHead();
    try {
      await buildEntries(head.aliases);
      return `main@${head.commit}`;
    } catch (error) {
      // A commit caught between two of its authors' commits may not build: say so, and measure
      // the working tree rather than nothing.
      console.warn(
        `bench: main@${head.commit} does not build (${String(error).split("\n").slice(0, 3).join(" ")}); ` +
          "building the working tree instead",
      );
    } finally {
      rmSync(head.dir, { recursive: true, force: true });
    }
  }
  await buildEntries(workspaceAliases());
  return "working tree";
}

async function buildEntries(aliases: ReturnType<typeof workspaceAliases>): Promise<void> {
  for (const [index, entry] of ["main", "bench.worker", "follow.worker"].entries()) {
    await build({
      configFile: false,
      logLevel: "warn",
      mode: "production",
      resolve: { alias: aliases },
      define: { "process.env.NODE_ENV": JSON.stringify("production") },
      build: {
        outDir: prodDir,
        // The second build adds to the first's output.
        emptyOutDir: index === 0,
        minify: true,
        sourcemap: false,
        target: "es2022",
        // An app build (not library mode, which keeps whitespace), one self-contained file.
        rollupOptions: {
          input: join(appDir, `${entry}.ts`),
          preserveEntrySignatures: "strict",
          output: { format: "es", entryFileNames: `${entry}.js`, codeSplitting: false },
        },
      },
    });
  }
}

/** Global setup: build before the first page loads. */
export default async function setup(project: TestProject): Promise<void> {
  const start = performance.now();
  const built = await buildProd();
  project.provide("benchBuild", built);
  console.log(
    `bench: production build of bench/app on ${built} in ` +
      `${Math.round(performance.now() - start)} ms -> ${prodDir}`,
  );
}

/** Serves the build under {@link prodPrefix}, byte for byte, cross-origin-isolation headers on. */
export function serveProd(): Plugin {
  return {
    name: "chronicle-bench-prod",
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split("?")[0] ?? "";
        if (!path.startsWith(prodPrefix)) return next();
        const file = join(prodDir, path.slice(prodPrefix.length));
        if (!file.startsWith(prodDir) || !existsSync(file)) return next();
        response.setHeader("Content-Type", "text/javascript");
        response.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
        response.setHeader("Cross-Origin-Opener-Policy", "same-origin");
        response.setHeader("Cross-Origin-Resource-Policy", "same-origin");
        response.end(readFileSync(file));
      });
    },
  };
}

// internal: not exported. The browser benchmarks run Chronicle as apps ship it: a production
// Vite build (minified, `mode: "production"`) of a main-thread module and a worker module
// (bench/app/), served as-is under `/__prod/` by the bench server (no dev transform).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "vite";
import { workspaceAliases } from "../scripts/workspace-aliases.ts";

/** Where the build lands (bench/output is ignored by git). */
export const prodDir = fileURLToPath(new URL("./output/prod/", import.meta.url));
const appDir = fileURLToPath(new URL("./app/", import.meta.url));
/** The URL prefix the page loads the build from. */
export const prodPrefix = "/__prod/";

/** Builds `main.js` and `bench.worker.js`, each one self-contained ES module. */
export async function buildProd(): Promise<void> {
  for (const [index, entry] of ["main", "bench.worker"].entries()) {
    await build({
      configFile: false,
      logLevel: "warn",
      mode: "production",
      resolve: { alias: workspaceAliases() },
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
          output: { format: "es", entryFileNames: `${entry}.js`, inlineDynamicImports: true },
        },
      },
    });
  }
}

/** Global setup: build before the first page loads. */
export default async function setup(): Promise<void> {
  const start = performance.now();
  await buildProd();
  console.log(
    `bench: production build of bench/app in ${Math.round(performance.now() - start)} ms -> ${prodDir}`,
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

// `npm run bench`, browser project: benchmarks of @chronicle/browser in real Chromium. Paths are
// relative to bench/. They print tables and assert nothing about speed.
//
// As users run: on an on-disk profile (Playwright's persistent context on bench/output/
// chromium-profile-<pid>, one per run; Vitest's default context keeps IndexedDB in memory),
// and the engine as a production build (bench/prod-build.ts) for the benchmarks that load it.

import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "../scripts/workspace-aliases.ts";
import { chromiumArgs } from "../vitest.browser.config.ts";
import { pushEvents, type StreamPush } from "./node-push.ts";
import { serveProd } from "./prod-build.ts";
import { freshProfile, profileUsage } from "./profile.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  // Explicit, so the include below means bench/ whether run alone or as a project.
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [serveProd()],
  optimizeDeps: { include: ["dexie", "comlink", "zod"] },
  server: {
    fs: { allow: [".."] },
    // Cross-origin isolation: performance.now() is then precise to a few microseconds instead
    // of being rounded to 100 us, which the sub-millisecond latencies here need.
    headers: {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
    },
  },
  test: {
    name: "bench-browser",
    include: ["*.browser.bench.ts"],
    // This run's profile (removed at the end), the production build of bench/app, then one real sync node (wrangler dev; the browser
    // tier's setup) for the benchmarks that sync, and the bench's own node (snapshots of the
    // bench app for new devices: bench/sync-node/index.ts).
    globalSetup: [
      "./profile.ts",
      "./prod-build.ts",
      "../test/browser-sync/global-setup.ts",
      "./bench-node-setup.ts",
    ],
    testTimeout: 600_000,
    // BENCH_SCALE=0.1 runs every count at a tenth (a quick check of the benchmarks themselves).
    provide: { benchScale: Number(process.env.BENCH_SCALE ?? 1) || 1 },
    fileParallelism: false,
    disableConsoleIntercept: true,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        // One browser for the whole run (files run one at a time), its profile on disk.
        persistentContext: freshProfile(),
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          // Lets the worker report its heap (performance.memory) with real precision.
          args: [...chromiumArgs, "--enable-precise-memory-info"],
        },
      }),
      commands: {
        profileUsage: (_context, since?: number) => profileUsage(since),
        pushEvents: (_context, url: string, token: string, pushes: StreamPush[]) =>
          pushEvents(url, token, pushes),
      },
      instances: [{ browser: "chromium" }],
    },
  },
});

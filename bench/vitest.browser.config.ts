// `npm run bench`, browser project: benchmarks of @chronicle/browser in real Chromium. Paths are
// relative to bench/. They print tables and assert nothing about speed.

import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "../scripts/workspace-aliases.ts";
import { chromiumArgs } from "../vitest.browser.config.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  // Explicit, so the include below means bench/ whether run alone or as a project.
  root: fileURLToPath(new URL(".", import.meta.url)),
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
    // One real sync node (wrangler dev) for the catch-up benchmark; the browser tier's setup.
    globalSetup: ["../test/browser-sync/global-setup.ts"],
    testTimeout: 600_000,
    fileParallelism: false,
    disableConsoleIntercept: true,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          // Lets the worker report its heap (performance.memory) with real precision.
          args: [...chromiumArgs, "--enable-precise-memory-info"],
        },
      }),
      instances: [{ browser: "chromium" }],
    },
  },
});

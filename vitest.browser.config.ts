// Browser tier: real Chromium through Playwright (Vitest browser mode). Dexie store, Web Worker
// host, tabs, crash atomicity. The browser is Debian's chromium unless CHROMIUM_PATH says
// otherwise (`npm test` sets it; see scripts/ensure.mjs).
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "./scripts/workspace-aliases.ts";

export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  optimizeDeps: {
    include: [
      "dexie",
      "comlink",
      "zod",
      "@chronicle/core",
      "@chronicle/core/text",
      "@chronicle/core/testing/store-contract",
      "@chronicle/core/testing/local-log-contract",
      "@chronicle/core/process",
      "@chronicle/core/testing/process-store-contract",
      "@chronicle/sync",
    ],
  },
  test: {
    name: "browser",
    include: [
      "packages/browser/src/**/*.browser.test.ts",
      // Browser tests that reach outside the package (the repository's examples).
      "test/browser-sync/**/*.browser.test.ts",
    ],
    // One real sync node (wrangler dev) for the tests that sync end to end; see the setup.
    // A second node runs the order example's process (order-devices.browser.test.ts).
    // Both start at once, from global-setup.ts.
    globalSetup: ["test/browser-sync/global-setup.ts"],
    testTimeout: 60_000,
    // Reports cross from the worker on their own channel, after real network round trips: on a
    // loaded machine that can take longer than expect.poll's default second.
    expect: { poll: { timeout: 10_000 } },
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: chromiumArgs,
        },
      }),
      instances: [{ browser: "chromium" }],
    },
  },
});

// Consumer tier: the packages as an outsider gets them. A global setup builds and packs every
// package once (scripts/pack.mjs); the tests lint the tarballs (publint, attw) and install them
// into apps outside the workspace: a create-vite React app run in Chromium, plain Node, and a
// Cloudflare app that deploys the sync node.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "consumer",
    include: ["test/consumer/**/*.consumer.test.ts"],
    environment: "node",
    // Scheduling (see vitest.config.ts): the light tiers run after the browser and e2e tiers, two
    // files at a time.
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
    globalSetup: ["test/consumer/pack.global-setup.ts"],
    hookTimeout: 600_000,
    testTimeout: 300_000,
    expect: { poll: { timeout: 15_000 } },
  },
});

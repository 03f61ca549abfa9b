// React 18 tier: @chronicle/react's hooks test again, with React 18 in place of the repository's
// React 19, so the `react >=18` peer range is tested. React 18 is the `test/react18` workspace's
// own copy (npm keeps it apart from the root's React 19); the aliases send every import of react
// and react-dom there, and react-dom 18 finds that same react next to it.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { workspaceAliases } from "./scripts/workspace-aliases.ts";

const react18 = (path: string) =>
  fileURLToPath(new URL(`./test/react18/node_modules/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^react$/, replacement: react18("react/index.js") },
      { find: /^react\/jsx-runtime$/, replacement: react18("react/jsx-runtime.js") },
      { find: /^react\/jsx-dev-runtime$/, replacement: react18("react/jsx-dev-runtime.js") },
      { find: /^react-dom$/, replacement: react18("react-dom/index.js") },
      { find: /^react-dom\/client$/, replacement: react18("react-dom/client.js") },
      ...workspaceAliases(),
    ],
  },
  test: {
    name: "react18",
    include: ["packages/react/src/**/*.test.tsx"],
    environment: "node",
    // Scheduling (see vitest.config.ts): the light tiers run after the browser and e2e tiers, two
    // files at a time.
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
    // The hooks test checks that this is the React it runs on.
    env: { CHRONICLE_REACT_MAJOR: "18" },
    setupFiles: ["test/fixed-seed.setup.ts"],
    testTimeout: 30_000,
    // Dependencies that import react go through the aliases too (else Node finds React 19).
    server: { deps: { inline: ["@tanstack/react-virtual"] } },
  },
});

// The demo app: `npm start` serves it with Vite next to the local sync node.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { workspaceAliases } from "../scripts/workspace-aliases.ts";

export default defineConfig({
  resolve: { alias: workspaceAliases() },
  root: fileURLToPath(new URL(".", import.meta.url)),
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: false,
    // The local sync node (npm run dev:node), same-origin for the page and its worker.
    proxy: {
      "/sync": {
        target: process.env.CHRONICLE_NODE_URL ?? "http://127.0.0.1:8787",
        ws: true,
        rewrite: (path) => path.replace(/^\/sync/, ""),
      },
    },
  },
  // Pre-bundle up front: discovering these mid-session reloads the page.
  optimizeDeps: {
    include: ["dexie", "comlink", "zod", "yjs", "react", "react-dom", "react-dom/client"],
  },
  worker: { format: "es" },
  oxc: { jsx: { runtime: "automatic" } },
});

// The demo app: `npm start` serves it with Vite next to the local sync node.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";
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
  plugins: [
    // An installable app whose shell (HTML, scripts, the worker, styles) is precached by a
    // service worker: after one online visit it boots offline and shows the board from
    // IndexedDB. Production builds only; `npm start` (the dev server) has no service worker.
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: "script-defer",
      manifest: {
        name: "Chronicle demo board",
        short_name: "Chronicle",
        description:
          "A local-first kanban board on Chronicle: offline, synced, with undo and time travel",
        theme_color: "#1e3a8a",
        background_color: "#f4f5f7",
        display: "standalone",
        start_url: "./",
        icons: [{ src: "icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" }],
      },
      workbox: {
        globPatterns: ["**/*.{js,css,html,svg,webmanifest}"],
        // A new version takes over open pages at once (the app's state lives in IndexedDB).
        clientsClaim: true,
        skipWaiting: true,
        navigateFallback: "index.html",
        // The sync node's routes are never answered from the cache: `/sync/*` under the dev and
        // preview servers' proxy, `/v1/*` and `/health` where the node serves the demo itself.
        navigateFallbackDenylist: [/^\/sync\//, /^\/v1\//, /^\/health$/],
      },
    }),
  ],
  oxc: { jsx: { runtime: "automatic" } },
});

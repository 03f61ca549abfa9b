// The demo as it ships: a production `vite build` served by `vite preview`, whose /sync proxy
// reaches the given sync node. Used by the offline-boot e2e test and the demo benchmark.
import { fileURLToPath } from "node:url";
import { build, preview } from "vite";

const config = fileURLToPath(new URL("../../demo/vite.config.ts", import.meta.url));

export interface ProductionDemo {
  /** The page's URL (ends with `/`). */
  url: string;
  close(): Promise<void>;
}

/** Builds the demo into `outDir` and serves it on a free port, proxying /sync to `nodeUrl`. */
export async function startProductionDemo(
  nodeUrl: string,
  outDir: string,
): Promise<ProductionDemo> {
  process.env.CHRONICLE_NODE_URL = nodeUrl; // read by the demo's Vite config (its proxy)
  // Vitest sets NODE_ENV=test, and Vite keeps a NODE_ENV it finds: React's development build
  // would be bundled. Build as an app's `vite build` does.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({ configFile: config, logLevel: "error", build: { outDir, emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server = await preview({
    configFile: config,
    logLevel: "error",
    build: { outDir },
    preview: { port: 0, host: "127.0.0.1", strictPort: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error("vite preview did not listen");
  return { url, close: () => server.close() };
}

// internal: test helper. The demo as the e2e tests drive it: a real local sync node (wrangler
// dev), the demo's Vite dev server proxying /sync to it, and Chromium; one browser context per
// device (each device has its own IndexedDB database and worker).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright";
import { createServer, type ViteDevServer } from "vite";
import { chromiumArgs } from "../../vitest.browser.config.ts";
import { type RunningNode, startNode } from "../sync-node/node-process.ts";

/** A running demo: its page URL and a browser to open devices in. */
export interface DemoHarness {
  /** The demo page's URL (ends with `/`). */
  url: string;
  browser: Browser;
  /**
   * Opens a device (a browser context of its own) at `?device=<device>` (and `&user=`), plus
   * `hash` (e.g. `#/b/<id>`), and waits until its board is synced.
   */
  openDevice(device: string, user?: string, hash?: string): Promise<Page>;
  close(): Promise<void>;
}

/** Starts a sync node, the demo's dev server and Chromium. */
export async function startDemo(): Promise<DemoHarness> {
  const stateDir = mkdtempSync(join(tmpdir(), "chronicle-demo-e2e-"));
  let node: RunningNode | undefined;
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    node = await startNode({ persistTo: stateDir });
    process.env.CHRONICLE_NODE_URL = node.url; // the demo's Vite config proxies /sync to it
    server = await createServer({
      configFile: fileURLToPath(new URL("../../demo/vite.config.ts", import.meta.url)),
      // No file watching, no hot reload: a source edited while the tests run (another change
      // being made in the tree) must not reload the devices' pages under them.
      server: { port: 0, host: "127.0.0.1", hmr: false, watch: null },
      logLevel: "error",
    });
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === "string") throw new Error("vite did not listen");
    const url = `http://127.0.0.1:${address.port}/`;
    const opened = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: chromiumArgs,
    });
    browser = opened;
    return {
      url,
      browser: opened,
      async openDevice(device, user, hash = "") {
        const page = await (await opened.newContext()).newPage();
        await page.goto(`${url}?device=${device}${user ? `&user=${user}` : ""}${hash}`);
        await page.locator('[data-sync="synced"]').waitFor();
        return page;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Adds a card through the form and waits for it on the board. */
export async function addCard(page: Page, title: string) {
  await page.getByPlaceholder("New card").fill(title);
  await page.getByRole("button", { name: "Add card" }).click();
  await page.locator(`[data-card="${title}"]`).waitFor();
}

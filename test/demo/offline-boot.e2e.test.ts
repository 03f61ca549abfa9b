// The demo as an installable PWA, built for production and served by `vite preview` next to a
// real sync node: after one online visit its service worker has the app shell, so a reload with
// the network off shows the board from IndexedDB and takes edits, which sync when the network
// comes back (a second device sees them).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chromiumArgs } from "../../vitest.browser.config.ts";
import { type RunningNode, startNode } from "../sync-node/node-process.ts";
import { type ProductionDemo, startProductionDemo } from "./production-demo.ts";

const work = mkdtempSync(join(tmpdir(), "chronicle-offline-boot-"));
let node: RunningNode;
let demo: ProductionDemo;
let browser: Browser;

beforeAll(async () => {
  node = await startNode({ persistTo: join(work, "node") });
  demo = await startProductionDemo(node.url, join(work, "dist"));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: chromiumArgs,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await node?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function addCard(page: Page, title: string) {
  await page.getByPlaceholder("New card").fill(title);
  await page.getByRole("button", { name: "Add card" }).click();
  await page.locator(`[data-card="${title}"]`).waitFor();
}

it("boots offline after one online visit, shows the board from IndexedDB, takes edits, syncs them when back online", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.url}?device=pwa&user=pat`);
  await page.locator('[data-sync="synced"]').waitFor({ timeout: 30_000 });
  await addCard(page, "Made online");
  await page.locator('[data-sync="synced"][data-pending="0"]').waitFor();
  // The service worker has installed (precached the shell) and controls the page.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect
    .poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null))
    .toBe(true);

  await context.setOffline(true);
  await page.reload();
  await page.locator('[data-card="Made online"]').waitFor();
  await expect.poll(() => page.locator("[data-sync]").getAttribute("data-sync")).not.toBe("synced");
  await addCard(page, "Made offline");
  await expect.poll(() => page.locator("[data-sync]").getAttribute("data-pending")).toBe("1");

  await context.setOffline(false);
  await page.locator('[data-sync="synced"][data-pending="0"]').waitFor({ timeout: 60_000 });
  const other = await (await browser.newContext()).newPage();
  await other.goto(`${demo.url}?device=other&user=olga`);
  await other.locator('[data-card="Made offline"]').waitFor({ timeout: 30_000 });
  await other.locator('[data-card="Made online"]').waitFor();
}, 180_000);

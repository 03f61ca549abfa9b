// Several boards, two devices (Chromium against the demo's dev server and a real sync node):
// device A creates a board (a stream of its own) and adds a card there; device B's worker follows
// every `board:` stream, so the board appears in its board list (a cross-stream projection); B
// opens it by URL and sees the card, and the first board is untouched. A card's due date fires
// its reminder (a process with a timeout) on both devices. The run also makes the
// README's screenshots (docs/images/): the board, the devtools panel, the two devices.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addCard, type DemoHarness, startDemo } from "./demo-harness.ts";

const images = fileURLToPath(new URL("../../docs/images/", import.meta.url));
let demo: DemoHarness;

beforeAll(async () => {
  mkdirSync(images, { recursive: true });
  demo = await startDemo();
});

afterAll(async () => {
  await demo?.close();
});

/** The cards of the open board, column by column. */
const boardOf = (page: Page) =>
  page
    .locator(".column")
    .evaluateAll((columns) =>
      columns.map((column) =>
        [...column.querySelectorAll("[data-card]")].map((c) => c.getAttribute("data-card")),
      ),
    );

/** The board list's entries, as shown: name and card count. */
const listOf = (page: Page) => page.locator("nav.boards li a").allTextContents();

it("a board made on one device is listed on the other, opens there by URL with its card; the first board is untouched; a due date fires its reminder", async () => {
  const a = await demo.openDevice("board-a", "ann");
  const b = await demo.openDevice("board-b", "ben");
  await addCard(a, "On the first board");
  await b.locator('[data-card="On the first board"]').waitFor();

  // A creates a board: a command on a new stream, and the page opens it by its URL.
  await a.getByLabel("New board name").fill("Roadmap");
  await a.getByRole("button", { name: "New board" }).click();
  await a.locator('nav.boards [aria-current="page"][data-board="Roadmap"]').waitFor();
  const hash = new URL(a.url()).hash;
  expect(hash).toMatch(/^#\/b\/[0-9a-f]{8}$/);
  expect(await a.locator("[data-card]").count()).toBe(0);
  await addCard(a, "Plan the launch");
  await a.locator('[data-column="todo"] [data-card="Plan the launch"]').waitFor();
  await a.locator('[data-sync="synced"][data-pending="0"]').waitFor();

  // B, still on the first board, hears of it through its follower: listed with its card count.
  await expect.poll(() => listOf(b)).toEqual(["Demo board 1 card", "Roadmap 1 card"]);
  expect(await b.locator('nav.boards [aria-current="page"]').textContent()).toBe(
    "Demo board 1 card",
  );

  // B opens the board by its URL (a fresh load): the card is there, and the board is live.
  await b.goto("about:blank");
  await b.goto(`${demo.url}?device=board-b&user=ben${hash}`);
  await b.locator('[data-column="todo"] [data-card="Plan the launch"]').waitFor();
  await b.locator('nav.boards [aria-current="page"][data-board="Roadmap"]').waitFor();
  await b.locator('[data-sync="synced"]').waitFor();
  await addCard(b, "Write the notes");
  await a.locator('[data-card="Write the notes"]').waitFor();
  await a.locator('[data-card="Plan the launch"]').getByRole("button", { name: "→ Doing" }).click();
  await b.locator('[data-column="doing"] [data-card="Plan the launch"]').waitFor();
  for (const page of [a, b]) {
    await page.locator('[data-sync="synced"][data-pending="0"]').waitFor();
    await expect.poll(() => listOf(page)).toEqual(["Demo board 1 card", "Roadmap 2 cards"]);
  }
  expect(await boardOf(b)).toEqual(await boardOf(a));

  // A due date on a card: the card-reminder process (each device runs its own instance) schedules
  // a timeout at it, and marks the reminder due when it fires.
  const notes = (page: Page) => page.locator('[data-card="Write the notes"]');
  await notes(a).getByRole("button", { name: "Description" }).click();
  const due = a.getByLabel("Due date of Write the notes");
  await due.fill(await localTime(a, 24 * 3_600_000)); // tomorrow
  for (const page of [a, b]) await notes(page).locator('[data-due="later"]').waitFor();
  await due.fill(await localTime(a, 1_000)); // in a second
  for (const page of [a, b]) await notes(page).locator('[data-due="now"]').waitFor();
  await notes(a).getByRole("button", { name: "Description" }).click();
  await screenshotTwoDevices(a, b, `${images}demo-two-devices.png`);

  // The devtools panel on the new board: the reminder's process instance; its events, one expanded.
  await a.getByRole("button", { name: "Devtools" }).click();
  const panel = a.getByRole("complementary", { name: "Chronicle devtools" });
  await panel.getByRole("tab", { name: "Processes" }).click();
  await panel.locator('li[data-process="card-reminder"]').waitFor();
  expect(await panel.locator('li[data-process="card-reminder"] pre').textContent()).toContain(
    '"due": true',
  );
  await panel.getByRole("tab", { name: "Events" }).click();
  await panel.locator('li[data-event="card.moved"] button').first().click();
  await expect
    .poll(() => panel.locator("li[data-event] dl").first().textContent())
    .toContain("correlation");
  await a.screenshot({ path: `${images}demo-devtools.png`, fullPage: true });
  await a.getByRole("button", { name: "Devtools" }).click();

  // The first board's link opens it: only its own card. Back returns to the new board.
  await a.locator('nav.boards a[data-board="Demo board"]').click();
  await a.locator('nav.boards [aria-current="page"][data-board="Demo board"]').waitFor();
  await a.locator('[data-card="On the first board"]').waitFor();
  expect(await boardOf(a)).toEqual([["On the first board"], [], []]);
  await a.goBack();
  await a.locator('[data-column="doing"] [data-card="Plan the launch"]').waitFor();
  await a.locator('[data-sync="synced"][data-pending="0"]').waitFor();
  // The event log is read after the board renders: the screenshot shows it listed.
  await a.locator(".log li", { hasText: "board.created" }).waitFor();
  await a.screenshot({ path: `${images}demo-board.png` });
}, 90_000);

/** A time from now as the page's `datetime-local` inputs take it (local time, to the second). */
const localTime = (page: Page, fromNow: number) =>
  page.evaluate((ms) => {
    const time = Date.now() + ms;
    return new Date(time - new Date(time).getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
  }, fromNow);

/** The two devices' pages side by side in one image (composed in a page of their screenshots). */
async function screenshotTwoDevices(left: Page, right: Page, path: string) {
  const [one, two] = await Promise.all(
    [left, right].map(async (page) => (await page.screenshot()).toString("base64")),
  );
  const canvas = await (
    await demo.browser.newContext({ viewport: { width: 1600, height: 500 } })
  ).newPage();
  await canvas.setContent(`<body style="margin:0;display:flex;gap:8px;background:#1e3a8a">
    <img src="data:image/png;base64,${one}" style="width:796px" />
    <img src="data:image/png;base64,${two}" style="width:796px" /></body>`);
  await canvas.waitForFunction(() => [...document.images].every((image) => image.complete));
  await canvas.screenshot({ path, fullPage: true });
  await canvas.close();
}

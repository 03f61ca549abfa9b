// The demo in a real Chromium (Playwright driving Debian's chromium) against the Vite dev
// server and a real local sync node (wrangler dev): add and move cards, a refused command shows
// its coded error, the time-travel slider shows the board as it was, a reload keeps everything
// (IndexedDB), two devices with separate storage converge through the node, and two devices
// typing offline into the same card description end with both edits. Screenshots of the key
// moments go to test/output/ (not committed).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addCard, type DemoHarness, startDemo } from "./demo-harness.ts";

const output = fileURLToPath(new URL("../output/", import.meta.url));
let demo: DemoHarness;

beforeAll(async () => {
  mkdirSync(output, { recursive: true });
  demo = await startDemo();
});

afterAll(async () => {
  await demo?.close();
});

const openDevice = (device: string, user?: string) => demo.openDevice(device, user);

/**
 * The devices' history lists settle on the same entries. A list is fetched after the board
 * renders, and a device's own last entry is tagged pending until its ack: polled, not read once.
 */
async function sameLog(pages: Page[]) {
  const lists = () => Promise.all(pages.map((page) => page.locator(".log li").allTextContents()));
  const settled = async () => {
    const all = await lists();
    const pending = all.some((list) => list.some((entry) => entry.includes("pending")));
    return pending ? "some entry is pending" : new Set(all.map((l) => JSON.stringify(l))).size;
  };
  await expect.poll(settled).toBe(1);
  const [list] = await lists();
  expect(list!.length).toBeGreaterThan(0);
}

/** Whether `part` is `whole` with some characters left out (order kept). */
function isSubsequence(part: string, whole: string) {
  let at = 0;
  for (const char of whole) if (char === part[at]) at += 1;
  return at === part.length;
}

it("runs the board: add, move, refuse, time travel, reload", async () => {
  const page = await (await demo.browser.newContext()).newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${demo.url}?device=e2e`);
  await page.locator('[data-sync="synced"]').waitFor();
  await addCard(page, "Write docs");
  await addCard(page, "Ship it");
  await page.locator('[data-card="Write docs"]').getByRole("button", { name: "→ Done" }).click();
  await page.locator('[data-column="done"] [data-card="Write docs"]').waitFor();
  await page.screenshot({ path: `${output}demo-board.png` });

  await page.getByRole("button", { name: "Add card" }).click(); // empty title
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("a card needs a title");

  await page.getByLabel("Time travel").fill("1");
  await page.locator('[data-column="todo"] [data-card="Write docs"]').waitFor();
  expect(await page.locator('[data-card="Ship it"]').count()).toBe(0);
  expect(await page.locator(".time-travel span").textContent()).toContain("as of #1: card.added");
  await page.screenshot({ path: `${output}demo-time-travel.png` });
  await page.getByRole("button", { name: "Back to live" }).click();

  await page.reload();
  await page.locator('[data-column="done"] [data-card="Write docs"]').waitFor();
  await page.locator('[data-column="todo"] [data-card="Ship it"]').waitFor();
  await page.locator('[data-sync="synced"][data-pending="0"]').waitFor();
  await expect.poll(() => page.locator(".log li").count()).toBe(3);
  expect(errors).toEqual([]);
}, 60_000);

it("converges two devices with separate storage, edited offline, through the node; a fresh one catches up", async () => {
  const open = (device: string) => openDevice(device);
  const a = await open("a");
  const b = await open("b");
  // Both go offline, edit, then come back: the boards converge.
  for (const page of [a, b]) {
    await page.getByLabel("Offline").check();
    await page.locator('[data-sync="offline"]').waitFor();
  }
  await Promise.all([addCard(a, "From A"), addCard(b, "From B")]);
  // ...and move them, still offline.
  await a.locator('[data-card="From A"]').getByRole("button", { name: "→ Doing" }).click();
  await b.locator('[data-card="From B"]').getByRole("button", { name: "→ Done" }).click();
  await a.locator('[data-sync="offline"][data-pending="2"]').waitFor();
  await b.locator('[data-sync="offline"][data-pending="2"]').waitFor();
  expect(await b.locator('[data-card="From A"]').count()).toBe(0);
  for (const page of [a, b]) await page.getByLabel("Offline").uncheck();
  for (const page of [a, b]) {
    await page.locator('[data-column="doing"] [data-card="From A"]').waitFor();
    await page.locator('[data-column="done"] [data-card="From B"]').waitFor();
    await page.locator('[data-sync="synced"][data-pending="0"]').waitFor();
  }
  const board = (page: Page) =>
    page
      .locator(".column")
      .evaluateAll((columns) =>
        columns.map((column) =>
          [...column.querySelectorAll("[data-card]")].map((c) => c.getAttribute("data-card")),
        ),
      );
  expect(await board(b)).toEqual(await board(a)); // identical boards
  await b.locator('[data-card="From B"]').getByRole("button", { name: "→ Doing" }).click();
  await a.locator('[data-column="doing"] [data-card="From B"]').waitFor();
  await a.screenshot({ path: `${output}demo-device-a.png` });
  await b.screenshot({ path: `${output}demo-device-b.png` });
  const fresh = await open("fresh");
  await fresh.locator('[data-column="doing"] [data-card="From A"]').waitFor();
  await fresh.locator('[data-card="From B"]').waitFor();
  await sameLog([a, b, fresh]);
}, 90_000);

it("merges a card description typed offline on two devices at different places", async () => {
  const c = await openDevice("c", "carol");
  const d = await openDevice("d", "dave");
  const errors: string[] = [];
  for (const page of [c, d]) page.on("pageerror", (error) => errors.push(error.message));
  await addCard(c, "Spec");
  await d.locator('[data-card="Spec"]').waitFor();
  const editor = (page: Page) => page.getByLabel("Description of Spec");
  for (const page of [c, d]) {
    await page.locator('[data-card="Spec"]').getByRole("button", { name: "Description" }).click();
  }
  // Typed at full speed: every keystroke is diffed into the Y.Doc at once, commands queue.
  await editor(c).pressSequentially("The plan.");
  await expect.poll(() => editor(d).inputValue(), { timeout: 20_000 }).toBe("The plan.");
  await d.locator('[data-sync="synced"][data-pending="0"]').waitFor();

  for (const page of [c, d]) {
    await page.getByLabel("Offline").check();
    await page.locator('[data-sync="offline"]').waitFor();
  }
  await editor(c).focus();
  await editor(c).evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(0, 0));
  await editor(c).pressSequentially("Draft: ");
  await editor(d).focus();
  await editor(d).press("End");
  await editor(d).pressSequentially(" Ship Friday.");
  expect(await editor(c).inputValue()).toBe("Draft: The plan.");
  expect(await editor(d).inputValue()).toBe("The plan. Ship Friday.");
  await c.locator('[data-sync="offline"]:not([data-pending="0"])').waitFor();
  await d.locator('[data-sync="offline"]:not([data-pending="0"])').waitFor();

  for (const page of [c, d]) await page.getByLabel("Offline").uncheck();
  const merged = "Draft: The plan. Ship Friday.";
  for (const page of [c, d]) {
    await expect.poll(() => editor(page).inputValue(), { timeout: 20_000 }).toBe(merged);
    await page.locator('[data-sync="synced"][data-pending="0"]').waitFor();
  }
  // Each caret stayed next to what its user typed last.
  const caret = (page: Page) =>
    editor(page).evaluate((el: HTMLTextAreaElement) => [el.selectionStart, el.selectionEnd]);
  expect(await caret(c)).toEqual(["Draft: ".length, "Draft: ".length]);
  expect(await caret(d)).toEqual([merged.length, merged.length]);
  await c.screenshot({ path: `${output}demo-description.png` });
  await d.screenshot({ path: `${output}demo-description-device-2.png` });

  // One event back in time, the card shows its description as it was then (read-only).
  const head = Number(await d.getByLabel("Time travel").getAttribute("max"));
  await d.getByLabel("Time travel").fill(String(head - 1));
  const past = d.locator('[data-card="Spec"] .description');
  await expect.poll(() => past.textContent()).not.toBe(merged);
  // Only insertions were made, so any earlier text is the merged one with some characters not yet
  // typed. Which ones depends on the order the node gave the two devices' edits, and on how
  // keystrokes were grouped into events.
  const before = (await past.textContent())!;
  expect(before.length).toBeGreaterThan(0);
  expect(before.length).toBeLessThan(merged.length);
  expect(
    isSubsequence(before, merged),
    `"${before}" is not "${merged}" with characters left out`,
  ).toBe(true);
  expect(await editor(d).count()).toBe(0);
  await d.getByRole("button", { name: "Back to live" }).click();

  // Closed, the card shows the text; after a reload it comes back from IndexedDB.
  await d.locator('[data-card="Spec"]').getByRole("button", { name: "Description" }).click();
  await expect.poll(() => d.locator('[data-card="Spec"] .description').textContent()).toBe(merged);
  await d.reload();
  await d.locator('[data-card="Spec"]').getByRole("button", { name: "Description" }).click();
  await expect.poll(() => editor(d).inputValue()).toBe(merged);
  await sameLog([c, d]);
  expect(errors).toEqual([]);
}, 90_000);

it("undo on one device takes back only its own change, on both devices; redo, rename, Ctrl+Z", async () => {
  const e = await openDevice("e", "erin");
  const f = await openDevice("f", "frank");
  await addCard(e, "Undo me");
  await addCard(f, "Keep me");
  for (const page of [e, f]) {
    await page.locator('[data-card="Undo me"]').waitFor();
    await page.locator('[data-card="Keep me"]').waitFor();
  }
  const gone = (page: Page, title: string) =>
    expect.poll(() => page.locator(`[data-card="${title}"]`).count(), { timeout: 15_000 }).toBe(0);

  // The button names the next step; undo appends a compensation that syncs like any event.
  await e.getByRole("button", { name: "Undo Add “Undo me”" }).click();
  for (const page of [e, f]) {
    await gone(page, "Undo me");
    await page.locator('[data-card="Keep me"]').waitFor();
  }
  await e.locator(".log .tag", { hasText: "undo" }).first().waitFor();
  await e.screenshot({ path: `${output}demo-undo.png` });
  await e.getByRole("button", { name: "Redo Add “Undo me”" }).click();
  for (const page of [e, f]) await page.locator('[data-card="Undo me"]').waitFor();

  // An edit (rename), undone from the keyboard on the same device.
  await e.locator('[data-card="Undo me"]').getByRole("button", { name: "Rename" }).click();
  await e.getByLabel("New title of Undo me").fill("Renamed");
  await e.getByLabel("New title of Undo me").press("Enter");
  for (const page of [e, f]) await page.locator('[data-card="Renamed"]').waitFor();
  await e.getByRole("button", { name: "Undo Rename to “Renamed”" }).waitFor();
  await e.locator("h1").click(); // out of any text input: Ctrl+Z is the board's
  await e.keyboard.press("Control+z");
  for (const page of [e, f]) await page.locator('[data-card="Undo me"]').waitFor();

  // The other device's Ctrl+Z takes back its own card, not erin's.
  await f.locator("h1").click();
  await f.keyboard.press("Control+z");
  for (const page of [e, f]) {
    await gone(page, "Keep me");
    await page.locator('[data-card="Undo me"]').waitFor();
  }
  await f.screenshot({ path: `${output}demo-undo-device-2.png` });
}, 90_000);

it("two quick clicks are two undo steps: undo takes back the last one only, named on the button", async () => {
  const g = await openDevice("g", "gina");
  await addCard(g, "Old");
  const old = g.locator('[data-card="Old"]');
  // Both clicks well inside the undo capture window (500 ms), as a quick user makes them.
  await old.getByRole("button", { name: "→ Done" }).click();
  await g.getByPlaceholder("New card").fill("New");
  await g.getByRole("button", { name: "Add card" }).click();
  await g.locator('[data-card="New"]').waitFor();
  await g.getByRole("button", { name: "Undo Add “New”" }).click();
  await expect.poll(() => g.locator('[data-card="New"]').count()).toBe(0);
  // "Old" stays where the first click put it; the next step is that click, by its own name.
  await expect
    .poll(() => old.locator("xpath=ancestor::div[@data-column]").getAttribute("data-column"))
    .toBe("done");
  await g.getByRole("button", { name: "Undo Move to Done" }).click();
  await expect
    .poll(() => old.locator("xpath=ancestor::div[@data-column]").getAttribute("data-column"))
    .toBe("todo");
}, 90_000);

it("the devtools panel lists the board's events and previews the board at an earlier position", async () => {
  const h = await openDevice("h", "hana");
  await addCard(h, "Inspect me");
  await h.getByRole("button", { name: "Devtools" }).click();
  const panel = h.getByRole("complementary", { name: "Chronicle devtools" });
  await panel.locator('li[data-event="card.added"]').first().waitFor();
  await panel.locator("li[data-event] button").first().click();
  await expect
    .poll(() => panel.locator("li[data-event] dl").first().textContent())
    .toContain("correlation");
  await panel.getByRole("tab", { name: "Time travel" }).click();
  await expect
    .poll(() => panel.locator("pre[data-position]").textContent())
    .toContain("Inspect me");
  await panel.getByLabel("Devtools position").fill("0");
  await expect
    .poll(() => panel.locator("pre[data-position]").getAttribute("data-position"))
    .toBe("0");
  await expect
    .poll(() => panel.locator("pre[data-position]").textContent())
    .not.toContain("Inspect me");
}, 90_000);

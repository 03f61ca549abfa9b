// The proof that an outsider can use Chronicle: the packed tarballs installed into an app made
// from the current create-vite react-ts template (its tsconfig files and TypeScript version are
// kept in test/consumer/template/), outside this workspace. The app (test/consumer/app/) is a
// todo list written from the README. Its type check and production build must pass, the built
// app must run in Chromium on an on-disk profile (add three, reload, undo one), and plain Node
// must run @chronicle/core with no loader.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BrowserContext, chromium } from "playwright";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chromiumArgs } from "../../vitest.browser.config.ts";
import { packedTarballs } from "./tarballs.ts";

const here = dirname(fileURLToPath(import.meta.url));
const tarballs = await packedTarballs();
const work = mkdtempSync(join(tmpdir(), "chronicle-consumer-"));
const app = join(work, "app");
let preview: ChildProcess | undefined;
let context: BrowserContext | undefined;

function run(command: string, args: string[], cwd = app) {
  // Vitest sets NODE_ENV=test, which would make Vite build React's development bundle.
  const { NODE_ENV: _vitest, ...env } = process.env;
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...env, CI: "true" } });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

beforeAll(() => {
  cpSync(join(here, "template"), app, { recursive: true });
  cpSync(join(here, "app"), app, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
  // The template's own dependencies, minus its linter (not needed to build or run), plus ours.
  delete manifest.devDependencies.oxlint;
  const chronicle = [
    "@chronicle/core",
    "@chronicle/sync",
    "@chronicle/browser",
    "@chronicle/react",
  ];
  for (const name of chronicle) manifest.dependencies[name] = `file:${tarballs[name]}`;
  manifest.dependencies.zod = "^4.1.0";
  // The packages depend on each other by semver range: use these tarballs for those too.
  manifest.overrides = Object.fromEntries(chronicle.map((name) => [name, `$${name}`]));
  writeFileSync(join(app, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"]);
});

afterAll(async () => {
  await context?.close();
  preview?.kill("SIGTERM");
  // CHRONICLE_KEEP_CONSUMER=1 keeps the app to look at (its path is printed).
  if (process.env.CHRONICLE_KEEP_CONSUMER === "1") console.log(`[consumer] kept ${app}`);
  else rmSync(work, { recursive: true, force: true });
});

it("type-checks and builds with the template's own scripts (tsc -b && vite build)", () => {
  const typescript = JSON.parse(
    readFileSync(join(app, "node_modules/typescript/package.json"), "utf8"),
  ).version;
  expect(typescript).toMatch(/^7\./);
  run("npm", ["run", "build"]);
  const assets = readdirSync(join(app, "dist/assets"));
  const html = readFileSync(join(app, "dist/index.html"), "utf8");
  const mainFile = assets.find((file) => html.includes(file) && file.endsWith(".js"));
  expect(mainFile).toBeDefined();
  const main = readFileSync(join(app, "dist/assets", mainFile!));
  const workerFile = assets.find(
    (file) => file.startsWith("chronicle.worker") && file.endsWith(".js"),
  );
  expect(workerFile).toBeDefined();
  const worker = readFileSync(join(app, "dist/assets", workerFile!));
  // Dexie and Yjs stay off the main thread: the log lives in the worker.
  expect(main.toString()).not.toMatch(/Dexie/);
  expect(main.toString()).not.toMatch(/Yjs was already imported/);
  expect(worker.toString()).toMatch(/Dexie/);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(
    `[consumer] main thread ${kib(main.length)} (${kib(gzipSync(main).length)} gzip), worker ${kib(worker.length)} (${kib(gzipSync(worker).length)} gzip)`,
  );
});

it("runs in Chromium: three todos survive a reload, and undo takes the last one back", async () => {
  const port = await freePort();
  preview = spawn(
    join(app, "node_modules/.bin/vite"),
    ["preview", "--host", "127.0.0.1", "--port", String(port), "--strictPort"],
    { cwd: app, stdio: "pipe" },
  );
  const url = `http://127.0.0.1:${port}/`;
  await expect
    .poll(async () => (await fetch(url).catch(() => undefined))?.status, { timeout: 30_000 })
    .toBe(200);
  context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: chromiumArgs,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  const list = page.getByRole("list", { name: "Todos" });
  await list.and(page.locator('[data-ready="yes"]')).waitFor({ state: "attached" });
  for (const title of ["Milk", "Eggs", "Bread"]) {
    await page.getByLabel("Title").fill(title);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await list.getByText(title).waitFor();
  }
  await page.reload();
  await list.and(page.locator('[data-ready="yes"]')).waitFor({ state: "attached" });
  await expect.poll(() => list.locator("li").allTextContents()).toEqual(["Milk", "Eggs", "Bread"]);
  await page.getByRole("button", { name: /^Undo/ }).click();
  await expect.poll(() => list.locator("li").allTextContents()).toEqual(["Milk", "Eggs"]);
  // An empty title is refused with the decider's coded validation error, shown by useCommand.
  await page.getByLabel("Title").fill("");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("title");
  expect(errors).toEqual([]);
});

it("runs @chronicle/core in plain Node with no loader", () => {
  const output = execFileSync(process.execPath, ["script.mjs"], { cwd: app, encoding: "utf8" });
  expect(output.trim().split("\n")).toEqual(["refused: validation", '["Write docs","Ship it"]']);
});

#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies when they are missing or stale, and
// with --browser finds (or, as root on Debian, installs) a Chromium for the browser tests.
// Prints CHROMIUM_PATH=<path> when --print-browser is given. Used by `npm test` and `npm start`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function ensureDependencies() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const manifests = [
    "package.json",
    "package-lock.json",
    ...JSON.parse(readFileSync(join(root, "package.json"), "utf8")).workspaces.map(
      (w) => `${w}/package.json`,
    ),
  ].map((file) => join(root, file));
  const stale =
    !existsSync(marker) ||
    manifests.some((file) => existsSync(file) && statSync(file).mtimeMs > statSync(marker).mtimeMs);
  if (!stale) return;
  console.log("[chronicle] installing dependencies (npm install)...");
  const result = spawnSync("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error("[chronicle] npm install failed; see the output above.");
    process.exit(result.status ?? 1);
  }
}

/** The Chromium to drive: CHROMIUM_PATH, Debian's /usr/bin/chromium, then Playwright's own. */
export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  try {
    const output = execFileSync(
      process.execPath,
      ["-e", "console.log(require('playwright-core').chromium.executablePath())"],
      { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    ).trim();
    if (output && existsSync(output)) return output;
  } catch {
    // playwright-core absent or without a browser: fall through.
  }
  return undefined;
}

export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot && existsSync("/etc/debian_version")) {
    console.log("[chronicle] no Chromium found: installing Debian's chromium package (apt-get)...");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    const install =
      update.status === 0 &&
      spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
    const path = findChromium();
    if (install && install.status === 0 && path) return path;
  }
  console.error(
    [
      "[chronicle] The browser tests need Chromium and none was found.",
      "  - On Debian/Ubuntu: sudo apt-get install -y chromium",
      "  - Or point CHROMIUM_PATH at a Chromium/Chrome binary: CHROMIUM_PATH=/path/to/chrome npm test",
      "  - Or install Playwright's browser: npx playwright install chromium",
    ].join("\n"),
  );
  process.exit(1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureDependencies();
  if (process.argv.includes("--browser")) {
    const path = ensureChromium();
    if (process.argv.includes("--print-browser")) console.log(`CHROMIUM_PATH=${path}`);
  }
}

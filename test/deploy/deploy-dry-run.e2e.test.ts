// `npm run deploy`, short of the upload: scripts/deploy.mjs builds the demo for production,
// writes the deployment's wrangler config (the node's, plus Workers static assets) and runs
// `wrangler deploy --dry-run`: the node's Worker bundles, wrangler finds the built demo as its
// assets, and the demo talks to the node on its own origin (no dev proxy, no dev token route).
// Then that same config runs under `wrangler dev`: one origin serves the built page (and any
// other path as the single-page app), signs a visitor in, and syncs over a real WebSocket; the
// built demo in Chromium signs in and its card reaches the node. (One file: both use demo/dist.)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEnvelope } from "@chronicle/core";
import { type Browser, chromium } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STREAM } from "../../demo/src/board.ts";
import { chromiumArgs } from "../../vitest.browser.config.ts";
import { type RunningNode, startNode } from "../sync-node/node-process.ts";
import { ProtocolClient, readLog } from "../sync-node/ws-client.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const outdir = mkdtempSync(join(tmpdir(), "chronicle-deploy-"));
const dist = join(root, "demo/dist");
let output = "";
let seconds = 0;

beforeAll(() => {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ["scripts/deploy.mjs", "--dry-run", "--outdir", outdir],
    {
      cwd: root,
      encoding: "utf8",
      // Offline: no telemetry, no fetch of Cloudflare's cf.json; no account is needed for a dry run.
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_HIDE_BANNER: "true",
        CI: "true",
      },
    },
  );
  seconds = (Date.now() - started) / 1000;
  output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`npm run deploy -- --dry-run failed:\n${output}`);
  console.log(`[deploy dry run] build + bundle took ${seconds.toFixed(1)} s`);
}, 240_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

it("bundles the node's Worker with its Durable Objects and the demo's sign-in", () => {
  const bundle = readFileSync(join(outdir, "main.js"), "utf8");
  for (const name of ["StreamLog", "StreamDirectory"]) {
    expect(bundle).toMatch(new RegExp(`\\b${name} = class\\b|\\bclass ${name}\\b`));
    expect(bundle).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`));
  }
  expect(bundle).toContain("/v1/sign-in");
  expect(output).toMatch(/env\.STREAM_LOG \(StreamLog\)\s+Durable Object/);
  expect(output).toContain("--dry-run: exiting now.");
});

it("serves the production build of the demo as the Worker's static assets", () => {
  const read = /Read (\d+) files? from the assets directory (\S+)/.exec(output);
  expect(read, output).not.toBeNull();
  expect(Number(read![1])).toBeGreaterThanOrEqual(5);
  expect(read![2]).toBe(dist);
  const index = readFileSync(join(dist, "index.html"), "utf8");
  expect(index).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
  expect(existsSync(join(dist, "sw.js"))).toBe(true);

  const config = readFileSync(join(root, "wrangler.demo.toml"), "utf8");
  expect(config).toMatch(/^name = "chronicle-demo"$/m);
  expect(config).toContain('not_found_handling = "single-page-application"');
  expect(config).toContain('run_worker_first = ["/v1/*", "/health"]');
});

it("the built demo signs in on its own origin: no /sync proxy, no dev token route", () => {
  const assets = readdirSync(join(dist, "assets"));
  const worker = assets.find((file) => /^chronicle\.worker-.*\.js$/.test(file));
  expect(worker, assets.join(", ")).toBeDefined();
  const code = readFileSync(join(dist, "assets", worker!), "utf8");
  expect(code).toContain("/v1/sign-in");
  expect(code).not.toContain("/sync");
  expect(code).not.toContain("/v1/dev/token");
  // React's production build, not the development one a test runner's NODE_ENV would give.
  const page = readFileSync(join(dist, "assets", assets.find((f) => /^index-.*\.js$/.test(f))!));
  expect(page.toString()).toContain("Minified React error");
});

describe("the deployment under wrangler dev (wrangler.demo.toml)", () => {
  const state = mkdtempSync(join(tmpdir(), "chronicle-deploy-state-"));
  let node: RunningNode;
  let browser: Browser | undefined;

  beforeAll(async () => {
    node = await startNode({ persistTo: state, config: join(root, "wrangler.demo.toml") });
  });

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  interface Visitor {
    token: string;
    sub: string;
    cookie: string;
  }

  async function signIn(cookie?: string): Promise<Visitor> {
    const response = await fetch(`${node.url}/v1/sign-in`, {
      method: "POST",
      headers: cookie ? { Cookie: cookie } : {},
    });
    expect(response.status).toBe(200);
    const { token, sub } = (await response.json()) as { token: string; sub: string };
    return { token, sub, cookie: response.headers.get("Set-Cookie")!.split(";")[0]! };
  }

  it("serves the built page at / and as the single-page app's fallback; the node's routes beside it", async () => {
    const built = readFileSync(join(dist, "index.html"), "utf8");
    for (const path of ["/", "/boards/anything"]) {
      const page = await fetch(`${node.url}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(await page.text()).toBe(built);
    }
    const health = await fetch(`${node.url}/health`);
    expect(await health.json()).toMatchObject({ ok: true });
    // An unknown route of the node is the node's coded 404, not the page.
    const unknown = await fetch(`${node.url}/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "not-found" });
  });

  it("signs a visitor in and syncs its events over a real WebSocket", async () => {
    const visitor = await signIn();
    expect(visitor.sub).toMatch(/^visitor-/);
    expect((await signIn(visitor.cookie)).sub).toBe(visitor.sub);

    const stream = `board:deploy-${Date.now()}`;
    const client = await ProtocolClient.connect(node.wsUrl, stream, visitor.token);
    const event = createEnvelope(
      stream,
      { type: "card.added", version: 1, data: { id: "c1", title: "Deployed" } },
      { actor: "anyone", device: "node-test" },
    );
    const ack = await client.push("r1", [event]);
    expect(ack).toMatchObject({ t: "ack", results: [{ id: event.id, position: 1 }] });
    client.close();
    const log = await readLog(node.url, stream, visitor.token);
    expect(log.events).toMatchObject([{ id: event.id, meta: { actor: visitor.sub } }]);
  });

  it("the built demo in Chromium signs in on its own origin and its card reaches the node", async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: chromiumArgs,
    });
    const page = await (await browser.newContext()).newPage();
    const signIns: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/v1/sign-in")) signIns.push(request.url());
    });
    await page.goto(`${node.url}/?device=deployed&user=dee`);
    await page.locator('[data-sync="synced"]').waitFor({ timeout: 60_000 });
    expect(signIns[0]).toBe(`${node.url}/v1/sign-in`);

    const title = `Deployed ${Date.now()}`;
    await page.getByPlaceholder("New card").fill(title);
    await page.getByRole("button", { name: "Add card" }).click();
    await page.locator(`[data-card="${title}"]`).waitFor();
    const reader = await signIn();
    await expect
      .poll(async () => JSON.stringify((await readLog(node.url, STREAM, reader.token)).events), {
        timeout: 30_000,
      })
      .toContain(title);
  }, 120_000);
});

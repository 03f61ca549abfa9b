// `npm run deploy`, short of the upload: scripts/deploy.mjs builds the demo for production,
// writes the deployment's wrangler config (the node's, plus Workers static assets) and runs
// `wrangler deploy --dry-run`: the node's Worker bundles, wrangler finds the built demo as its
// assets, and the demo talks to the node on its own origin (no dev proxy, no dev token route).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";

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

// An app deploys the sync node from its own repository: a fresh Worker project outside this
// workspace installs the packed @chronicle/node (with core and sync) and hono and zod from the
// registry, writes the three-line entry from the package README, copies the wrangler.toml the
// package ships, and `wrangler deploy --dry-run` bundles it from the installed dist files. Its
// TypeScript check passes with the Workers types `wrangler types` generates.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { packedTarballs } from "./tarballs.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const requireFromRoot = createRequire(join(root, "package.json"));
/** The repo's own tools (its lockfile's versions), never a global or a download. */
const wrangler = join(dirname(requireFromRoot.resolve("wrangler/package.json")), "bin/wrangler.js");
const tsc = join(dirname(requireFromRoot.resolve("typescript/package.json")), "bin/tsc");
/** The version this repo installed (hono's `exports` do not list its package.json). */
const versionOf = (name: string): string =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

const tarballs = await packedTarballs();
const work = mkdtempSync(join(tmpdir(), "chronicle-node-app-"));
const app = join(work, "my-sync-node");
const chronicle = ["@chronicle/node", "@chronicle/core", "@chronicle/sync"];
const offline = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, {
    cwd: app,
    encoding: "utf8",
    env: { ...process.env, ...offline, CI: "true" },
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

beforeAll(() => {
  mkdirSync(join(app, "src"), { recursive: true });
  const manifest = {
    name: "my-sync-node",
    private: true,
    type: "module",
    dependencies: {
      ...Object.fromEntries(chronicle.map((name) => [name, `file:${tarballs[name]}`])),
      hono: versionOf("hono"),
      zod: versionOf("zod"),
    },
    // The packages depend on each other by semver range: use these tarballs for those too.
    overrides: Object.fromEntries(chronicle.map((name) => [name, `$${name}`])),
  };
  writeFileSync(join(app, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(app, "src/index.ts"),
    [
      'import { createSyncNode, StreamDirectory, StreamLog } from "@chronicle/node";',
      "",
      "export { StreamDirectory, StreamLog };",
      "export default createSyncNode();",
      "",
    ].join("\n"),
  );
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"]);
  // The config the package ships, as the README says to copy it.
  copyFileSync(
    join(app, "node_modules/@chronicle/node/wrangler.example.toml"),
    join(app, "wrangler.toml"),
  );
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

it("bundles with wrangler deploy --dry-run, from the installed dist files", () => {
  run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", "dist"]);
  const bundle = join(app, "dist/index.js");
  expect(existsSync(bundle)).toBe(true);
  const code = readFileSync(bundle, "utf8");
  // The Durable Object classes are in the bundle and exported by name, as the bindings need.
  for (const name of ["StreamLog", "StreamDirectory"]) {
    expect(code).toMatch(new RegExp(`\\b${name} = class\\b|\\bclass ${name}\\b`));
    expect(code).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`));
  }
  // Built from what npm installed (dist), not from this repository's sources; no bench code.
  expect(code).toContain("node_modules/@chronicle/node/dist/");
  expect(code).toContain("node_modules/@chronicle/sync/dist/protocol/");
  expect(code).not.toContain("packages/core/src");
  expect(code).not.toContain("EchoSocket");
}, 180_000);

it("type-checks against the Workers types wrangler generates", () => {
  run(process.execPath, [wrangler, "types"]);
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "bundler",
        lib: ["ES2023"],
        types: [],
        strict: true,
        noEmit: true,
        verbatimModuleSyntax: true,
      },
      include: ["worker-configuration.d.ts", "src/**/*.ts"],
    }),
  );
  run(process.execPath, [tsc, "-p", "tsconfig.json"]);
}, 180_000);

#!/usr/bin/env node
// Enforces the dependency rules of docs/architecture.md (import cycles are Biome's
// `noImportCycles`, in `npm run lint`):
// - core imports no workspace package and no DOM, IndexedDB, Node or Workers API;
// - browser and sync may import core; react may import core, browser and sync;
// - worker may import core and the protocol module of sync only;
// - demo imports public entry points only (package names, never another package's files);
// - relative imports stay inside their package.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const packages = {
  core: {
    dir: "packages/core/src",
    workspace: [],
    external: ["zod", "yjs", "vitest", "fast-check"],
  },
  sync: {
    dir: "packages/sync/src",
    workspace: ["@chronicle/core"],
    external: ["zod", "vitest", "ws", "fast-check"],
  },
  browser: {
    dir: "packages/browser/src",
    workspace: ["@chronicle/core"],
    // Tests (*.test.ts) may wire the sync engine into the host, as an app's worker module does.
    testWorkspace: ["@chronicle/sync"],
    external: [
      "dexie",
      "comlink",
      "zod",
      "vitest",
      "fake-indexeddb",
      "@vitest/browser",
      "fast-check",
    ],
  },
  react: {
    dir: "packages/react/src",
    workspace: ["@chronicle/core", "@chronicle/browser", "@chronicle/sync"],
    // The hooks test hosts a real browser Chronicle on fake-indexeddb; the devtools panel
    // (loaded lazily) virtualises its event log.
    external: ["react", "react-dom", "zod", "vitest", "fake-indexeddb", "@tanstack/react-virtual"],
  },
  worker: {
    dir: "worker/src",
    workspace: ["@chronicle/core", "@chronicle/sync/protocol"],
    external: ["hono", "jose", "zod", "cloudflare:workers", "cloudflare:test", "vitest"],
  },
  demo: { dir: "demo/src", workspace: "public", external: null },
};

// Globals that mean "this code needs a particular runtime" and so may not appear in core.
const forbiddenInCore = [
  /\bwindow\./,
  /\bdocument\./,
  /\bindexedDB\b/,
  /\bIDB[A-Z]\w*/,
  /\bnavigator\./,
  /\blocalStorage\b/,
  /\bprocess\.\w/,
  /\bBuffer\./,
  /\brequire\(/,
  /\b__dirname\b/,
  /\bWebSocket\b/,
  /\bDurableObject\w*/,
  /\bBroadcastChannel\b/,
  /\bpostMessage\(/,
];

const importPattern =
  /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s+["']([^"']+)["']/g;

function walk(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

const stripComments = (source) =>
  source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
const problems = [];
let checked = 0;

for (const [name, rule] of Object.entries(packages)) {
  const dir = join(root, rule.dir);
  for (const file of walk(dir)) {
    const source = readFileSync(file, "utf8");
    const code = stripComments(source);
    const rel = relative(root, file);
    const isTest = /\.test\.tsx?$/.test(file) || /\/testing\/[a-z-]+-contract\.ts$/.test(file);
    for (const match of code.matchAll(importPattern)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(dir))
          problems.push(`${rel}: relative import "${spec}" leaves ${rule.dir}`);
        continue;
      }
      if (spec.startsWith("@chronicle/")) {
        if (rule.workspace === "public") {
          if (spec.includes("/src/"))
            problems.push(`${rel}: "${spec}" is not a public entry point`);
        } else if (
          ![...rule.workspace, ...(isTest ? (rule.testWorkspace ?? []) : [])].some(
            (allowed) => spec === allowed || spec.startsWith(`${allowed}/`),
          )
        ) {
          problems.push(
            `${rel}: ${name} may not import "${spec}" (allowed: ${rule.workspace.join(", ") || "none"})`,
          );
        }
        continue;
      }
      if (rule.external === null) continue;
      const bare = spec.startsWith("@")
        ? spec.split("/").slice(0, 2).join("/")
        : spec.split("/")[0];
      if (name === "core" && (spec.startsWith("node:") || spec.startsWith("cloudflare:"))) {
        problems.push(`${rel}: core may not import runtime module "${spec}"`);
      } else if (
        !rule.external.includes(bare) &&
        !rule.external.includes(spec) &&
        !(isTest && spec.startsWith("node:"))
      ) {
        problems.push(
          `${rel}: ${name} imports "${spec}", which is not one of its allowed dependencies`,
        );
      }
      if (name === "core" && bare === "yjs" && !rel.includes("/src/text/"))
        problems.push(`${rel}: yjs belongs to the opt-in @chronicle/core/text entry point only`);
      if (name === "core" && (bare === "vitest" || bare === "fast-check") && !isTest)
        problems.push(`${rel}: core runtime code imports vitest`);
    }
    if (name === "core" && !isTest) {
      for (const pattern of forbiddenInCore) {
        if (pattern.test(code))
          problems.push(`${rel}: core uses a runtime-specific API (${pattern})`);
      }
    }
    checked += 1;
  }
}

if (problems.length > 0) {
  console.error(`dependency boundaries: ${problems.length} problem(s)`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log(`dependency boundaries ok (${checked} files)`);

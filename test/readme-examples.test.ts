// The code the READMEs show, as written. Every ```ts block of a package README becomes a module
// of its own (named by a first-line comment such as `// board.ts`, which that README's other
// blocks import); these and the root README's Quickstart are type-checked together with the
// repository's strict settings (one tsc run: it takes seconds), and each package block is run,
// except two kinds that are type-checked only: a `*.test.ts` module (it registers tests of its
// own) and a block that `declare`s what the app provides (a token, a toast: it needs the app, or
// a real node). test/quickstart.test.ts runs the Quickstart and checks what it prints. If this
// fails, a README shows code that does not compile or does not run.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  codeBlocks,
  codeBlocksUnderHeadings,
  root,
  section,
  typecheck,
  writeFiles,
} from "./readme-code.ts";

const packages = [
  { pkg: "core", domain: "board.ts" },
  { pkg: "sync", domain: "account.ts" },
].map(({ pkg, domain }) => {
  const readme = readFileSync(join(root, "packages", pkg, "README.md"), "utf8");
  const examples = codeBlocksUnderHeadings(readme, "ts").map((block, index) => {
    const named = /^\/\/ ([\w.-]+\.ts)\n/.exec(block.code)?.[1];
    const typeOnly = named?.endsWith(".test.ts") || /^declare /m.test(block.code);
    return { ...block, file: named ?? `example-${index + 1}.ts`, typeOnly };
  });
  const files = writeFiles(
    `test/output/readme-${pkg}`,
    Object.fromEntries(examples.map((example) => [example.file, example.code])),
    true,
  );
  return { pkg, domain, examples, files };
});
const quickstart = codeBlocks(
  section(readFileSync(join(root, "README.md"), "utf8"), "Quickstart"),
  "ts",
)[0];

// tsc takes seconds, more when every tier runs at once on two cores.
it("type-checks the Quickstart and every package README example", { timeout: 120_000 }, () => {
  const [file] = writeFiles("test/output/readme-root", { "quickstart.ts": quickstart ?? "" }, true);
  const files = [file!, ...packages.flatMap((readme) => readme.files)];
  expect(typecheck(files, "tsconfig.json", ["ES2023", "DOM"])).toBe("");
});

describe.each(packages)("packages/$pkg/README.md", ({ domain, examples, files }) => {
  it(`opens with ${domain}, the domain the other examples import`, () => {
    expect(examples[0]?.file).toBe(domain);
  });

  examples.forEach((example, index) => {
    if (example.typeOnly) return;
    it(`runs ${example.file} (${example.heading})`, async () => {
      // The examples print what they show; keep the test's output quiet.
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      try {
        await import(/* @vite-ignore */ files[index]!);
      } finally {
        log.mockRestore();
      }
    });
  });
});

// Internal (not a test): reads code blocks out of a README and type-checks them, for the tests
// that run a README's examples as written (test/quickstart.test.ts, test/readme-examples.test.ts).
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The text under the heading `title` (any level), up to the next heading of that level or above. */
export function section(markdown: string, title: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex(
    (line) => /^#{1,6} /.test(line) && line.replace(/^#+ /, "") === title,
  );
  if (start === -1) throw new Error(`no heading "${title}"`);
  const level = lines[start]!.indexOf(" ");
  let end = start + 1;
  let fenced = false;
  for (; end < lines.length; end++) {
    const line = lines[end]!;
    if (line.startsWith("```")) fenced = !fenced;
    const heading = /^(#{1,6}) /.exec(line);
    if (!fenced && heading && heading[1]!.length <= level) break;
  }
  return lines.slice(start + 1, end).join("\n");
}

/** A fenced code block and the title of the heading it is under. */
export interface CodeBlock {
  heading: string;
  code: string;
}

/** The fenced code blocks tagged `language` (```ts), in order, with their headings. */
export function codeBlocksUnderHeadings(markdown: string, language: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const pattern = /^```(\S*)[^\n]*\n([\s\S]*?)^```$|^#{1,6} (.*)$/gm;
  let heading = "";
  for (const match of markdown.matchAll(pattern)) {
    if (match[3] !== undefined) heading = match[3];
    else if (match[1] === language) blocks.push({ heading, code: match[2]! });
  }
  return blocks;
}

/** The contents of the fenced code blocks tagged `language` (```ts), in order. */
export function codeBlocks(markdown: string, language: string): string[] {
  return codeBlocksUnderHeadings(markdown, language).map((block) => block.code);
}

/**
 * Writes `files` (name -> source) into `dir` (relative to the repository; created, and emptied
 * first when `fresh`), and returns their absolute paths.
 */
export function writeFiles(dir: string, files: Record<string, string>, fresh = false): string[] {
  const absolute = join(root, dir);
  if (fresh) rmSync(absolute, { recursive: true, force: true });
  mkdirSync(absolute, { recursive: true });
  return Object.entries(files).map(([name, source]) => {
    writeFileSync(join(absolute, name), source);
    return join(absolute, name);
  });
}

/**
 * Type-checks `files` (absolute paths) with the repository's compiler settings (strict,
 * exactOptionalPropertyTypes, ...) for a Node program (with `lib`), through the tsconfig `config` written
 * into test/output; returns tsc's report, empty when clean.
 */
export function typecheck(files: string[], config: string, lib = ["ES2023"]): string {
  const dir = join(root, "test", "output");
  config = join(dir, config);
  writeFileSync(
    config,
    JSON.stringify({
      extends: relative(dir, join(root, "tsconfig.json")),
      compilerOptions: { lib, types: ["node"] },
      files: files.map((file) => relative(dir, file)),
    }),
  );
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const result = spawnSync(tsc, ["--noEmit", "--pretty", "false", "-p", config], {
    cwd: root,
    encoding: "utf8",
  });
  return result.status === 0 ? "" : `${result.stdout}${result.stderr}`.trim();
}

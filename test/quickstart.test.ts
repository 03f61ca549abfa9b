// The root README's Quickstart is one complete program. This test takes it from README.md as
// written (the first ```ts block under "## Quickstart"), runs it, and compares what it prints
// with the ```text block the README shows after it: if this fails, the README lies.
// (test/readme-examples.test.ts type-checks it with the repository's strict settings.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "node:util";
import { expect, it, vi } from "vitest";
import { codeBlocks, root, section, writeFiles } from "./readme-code.ts";

const quickstart = section(readFileSync(join(root, "README.md"), "utf8"), "Quickstart");
const program = codeBlocks(quickstart, "ts")[0];
const printed = codeBlocks(quickstart, "text")[0];

it("the README's Quickstart has a program and the lines it prints", () => {
  expect(program).toContain("@chronicle/core");
  expect(printed?.trim()).not.toBe("");
});

it("prints exactly what the README says it prints", async () => {
  const [file] = writeFiles("test/output", { "quickstart.ts": program! });
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args) => {
    lines.push(format(...args));
  });
  try {
    await import(/* @vite-ignore */ file!);
  } finally {
    log.mockRestore();
  }
  expect(lines).toEqual(printed!.trimEnd().split("\n"));
});

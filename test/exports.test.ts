// Every entry point's export list (values and types), as TypeScript sees it, against a committed
// snapshot: a change to the public surface shows up in review. After a deliberate change, update
// it with `npx vitest run -u test/exports.test.ts` and commit the snapshot with the change.
import ts from "typescript";
import { expect, it } from "vitest";
import { workspaceEntryPoints } from "../scripts/workspace-aliases.ts";

it("the public export lists are the committed ones", async () => {
  const entries = workspaceEntryPoints();
  const program = ts.createProgram(
    entries.map((entry) => entry.file),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      customConditions: ["@chronicle/source"],
      allowImportingTsExtensions: true,
      jsx: ts.JsxEmit.ReactJSX,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    },
  );
  const checker = program.getTypeChecker();
  const surface: Record<string, string[]> = {};
  for (const entry of entries) {
    const source = program.getSourceFile(entry.file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${entry.specifier}: ${entry.file} is not a module`);
    surface[entry.specifier] = checker
      .getExportsOfModule(moduleSymbol)
      .map((symbol) => symbol.getName())
      .sort();
  }
  await expect(`${JSON.stringify(surface, null, 2)}\n`).toMatchFileSnapshot(
    "./__snapshots__/exports.json",
  );
});

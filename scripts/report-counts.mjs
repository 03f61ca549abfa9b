#!/usr/bin/env node
// Prints "N passed, N failed" from a vitest JSON report; exits 1 when tests failed, none ran,
// or the report is missing (lint/typecheck failed before vitest ran).
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? ".vitest-report.json";
if (!existsSync(file)) {
  console.log("0 passed, 0 failed");
  console.error(`(no vitest report at ${file}: the run stopped before vitest)`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, "utf8"));
const passed = report.numPassedTests ?? 0;
// A file that fails to load has no test results: count it as a failure, or a broken suite
// would look like a smaller green one.
const brokenFiles = (report.testResults ?? []).filter(
  (suite) => suite.status === "failed" && (suite.assertionResults ?? []).length === 0,
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || report.success === false ? 1 : 0);

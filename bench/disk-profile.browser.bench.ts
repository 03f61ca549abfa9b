// Proves the browser benchmarks write to disk: the profile directory's IndexedDB files grow by
// about the data written (a regular Playwright context would keep them in memory and the
// directory would not change).
import { it } from "vitest";
import { loadProd, openProd, printBrowserTable, profileUsage } from "./browser-kit.ts";

it("the browser benchmarks' profile is on disk", async () => {
  const before = await profileUsage();
  const chronicle = await openProd(`bench-disk-${crypto.randomUUID().slice(0, 8)}`);
  const { tally } = await loadProd();
  await chronicle.execute("disk:1", tally, { type: "addMany", count: 10_000, prefix: "d" });
  await chronicle.close();
  const after = await profileUsage();
  const kib = (bytes: number) => Math.round(bytes / 1024);
  printBrowserTable(`On-disk profile: ${after.dir}`, [
    { case: "before", "IndexedDB KiB": kib(before.indexedDbBytes), files: before.indexedDbFiles },
    {
      case: "after 10,000 events",
      "IndexedDB KiB": kib(after.indexedDbBytes),
      files: after.indexedDbFiles,
    },
  ]);
  if (after.indexedDbBytes <= before.indexedDbBytes + 256 * 1024) {
    throw new Error("the profile directory did not grow: IndexedDB is not on disk");
  }
});

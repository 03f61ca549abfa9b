// Proves the browser benchmarks write to disk: after 10,000 events are written, the profile
// directory holds IndexedDB files written since, of about the data's size (a regular Playwright
// context keeps IndexedDB in memory: nothing would be there).
import { it } from "vitest";
import { loadProd, openProd, printBrowserTable, profileUsage } from "./browser-kit.ts";

it("the browser benchmarks' profile is on disk", async () => {
  const { tally } = await loadProd();
  const before = await profileUsage();
  // File times have a coarse grain on some file systems: a second of margin.
  const since = Date.now() - 1_000;
  const chronicle = await openProd(`bench-disk-${crypto.randomUUID().slice(0, 8)}`);
  await chronicle.execute("disk:1", tally, { type: "addMany", count: 10_000, prefix: "d" });
  await chronicle.close();
  const after = await profileUsage(since);
  const kib = (bytes: number) => Math.round(bytes / 1024);
  printBrowserTable(`On-disk profile: ${after.dir}`, [
    {
      case: "IndexedDB files before",
      KiB: kib(before.indexedDbBytes),
      files: before.indexedDbFiles,
    },
    { case: "after 10,000 events", KiB: kib(after.indexedDbBytes), files: after.indexedDbFiles },
    { case: "  of which written since the first write", KiB: kib(after.writtenBytes), files: "" },
  ]);
  if (after.writtenBytes < 1024 * 1024) {
    throw new Error("no IndexedDB file of the profile was written: IndexedDB is not on disk");
  }
});

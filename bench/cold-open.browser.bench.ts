// The first command after a cold open of a 100,000-event stream against the first read, in
// Chromium (on-disk profile, production build, no sync): the stream is written through
// `execute` (so whatever the engine keeps beside the events, projections and decider states, is
// there as an app would have it), then a fresh worker opens the database and either reads the
// projection or runs a command first; each twice, alternating. The synced variant (a device that
// caught up from a node) is in new-device.browser.bench.ts. Prints a table; asserts nothing
// about speed.
import { it } from "vitest";
import { loadProd, modeNote, openProd, printBrowserTable, scaled } from "./browser-kit.ts";

const run = crypto.randomUUID().slice(0, 8);

it("cold open of a 100,000-event stream: first command vs first read", async () => {
  const { tally, tallyView } = await loadProd();
  const total = scaled(100_000, 1_000);
  const batch = Math.min(10_000, total);
  const name = `bench-cold-${run}`;
  const stream = "cold:1";

  const seedStart = performance.now();
  const seeding = await openProd(name);
  for (let start = 0; start < total; start += batch) {
    await seeding.execute(stream, tally, { type: "addMany", count: batch, prefix: `s${start}-` });
  }
  await seeding.close();
  const seedMs = performance.now() - seedStart;

  const reads: number[] = [];
  const commands: number[] = [];
  const commandsAfterRead: number[] = [];
  let written = total;
  for (let round = 0; round < 2; round++) {
    // Read first: open, read the projection; then a command (timed on its own).
    let start = performance.now();
    let chronicle = await openProd(name);
    const state = await chronicle.load(tallyView, stream);
    reads.push(performance.now() - start);
    if (state.count !== written) throw new Error(`read ${state.count} events, wrote ${written}`);
    start = performance.now();
    await chronicle.execute(stream, tally, { type: "add", id: `r${round}`, title: "After read" });
    commandsAfterRead.push(performance.now() - start);
    written++;
    await chronicle.close();
    // Command first: open, run a command.
    start = performance.now();
    chronicle = await openProd(name);
    await chronicle.execute(stream, tally, { type: "add", id: `c${round}`, title: "Cold" });
    commands.push(performance.now() - start);
    written++;
    await chronicle.close();
  }

  const fmt = (values: number[]) => values.map((ms) => Math.round(ms)).join(", ");
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const ratio = mean(commands) / mean(reads);
  printBrowserTable(`Cold open of a ${total.toLocaleString("en")}-event stream (${modeNote()})`, [
    { case: `seed: ${total / batch} commands of ${batch} (not measured)`, ms: fmt([seedMs]) },
    { case: "open -> first read (projection), 2 runs", ms: fmt(reads) },
    { case: "open -> first command, 2 runs", ms: fmt(commands) },
    { case: "  a command after the first read", ms: fmt(commandsAfterRead) },
    {
      case: "ratio first command / first read (means)",
      ms: `${ratio.toFixed(2)}x; target <= 1.5x: ${ratio <= 1.5 ? "met" : "NOT met"}`,
    },
  ]);
});

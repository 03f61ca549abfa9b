// Process throughput in Chromium (on-disk profile, production build): the events of one stream,
// spread over the 1,000 instances of one process type (bench/app/tally-process.ts), handled by
// the browser host's runner (the leader tab's worker, Dexie process store: one atomic write per
// page of events, P1), against the same events folded by a plain projection (`rebuild`). Both sides
// open the same database cold and read the same events; each round has its own database.
// Prints events per second and the ratio; asserts nothing about speed.

import type { ProcessInstance } from "@chronicle/core/process";
import { it } from "vitest";
import { loadProd, modeNote, printBrowserTable, prodPrefix, scaled } from "./browser-kit.ts";

const run = crypto.randomUUID().slice(0, 8);
const batch = 100;

/** Resolves when `read` answers something, asking again on every change notice. */
function whenPresent<T>(
  onChange: (listener: () => void) => () => void,
  read: () => Promise<T | undefined>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const check = () =>
      read().then((value) => {
        if (settled || value === undefined) return;
        settled = true;
        stop();
        resolve(value);
      }, reject);
    const stop = onChange(check);
    void check();
  });
}

it("process throughput: 1,000 instances of one process vs a plain projection over the same events", {
  timeout: 1_800_000,
}, async () => {
  const total = scaled(10_000, 1_000);
  const { createChronicle, tally, tallyView } = await loadProd();
  const open = (name: string, processes: boolean) =>
    createChronicle({
      worker: new Worker(`${prodPrefix}bench.worker.js${processes ? "?processes=1" : ""}`, {
        type: "module",
      }),
      name,
      persist: false,
    });

  const rows: { case: string; ms: number; "events/s": number }[] = [];
  let projectionMs = 0;
  let processMs = 0;
  for (let round = 0; round < 2; round++) {
    const name = `bench-process-${run}-${round}`;
    // The events, written without the process: `total` item events in commands of 100, then an
    // `end` item, its own instance, handled last (the runner reads in commit order).
    const writer = await open(name, false);
    for (let i = 0; i < total / batch; i++) {
      await writer.execute("process:items", tally, {
        type: "addMany",
        count: batch,
        prefix: `b${i}-`,
      });
    }
    await writer.execute("process:items", tally, { type: "add", id: "end", title: "end" });
    await writer.close();

    // A plain projection over the same events: open cold, rebuild it.
    let start = performance.now();
    const reader = await open(name, false);
    const view = await reader.rebuild(tallyView, "process:items");
    projectionMs += performance.now() - start;
    if (view.count !== total + 1) throw new Error(`the view folded ${view.count} events`);
    await reader.close();

    // The process: open cold with it hosted; the leader's runner handles every event from its
    // checkpoint (none yet) until the `end` instance exists.
    start = performance.now();
    const host = await open(name, true);
    await whenPresent<ProcessInstance>(host.processes.onChange, () =>
      host.processes.get("tally-process", "end"),
    );
    processMs += performance.now() - start;
    const instances = await host.processes.list({ process: "tally-process" });
    const handled = instances.reduce(
      (sum, instance) => sum + (instance.state as { handled: number }).handled,
      0,
    );
    if (instances.length !== 1001 || handled !== total + 1) {
      throw new Error(`${instances.length} instances handled ${handled} events`);
    }
    await host.close();
  }
  const events = 2 * (total + 1);
  rows.push(
    {
      case: "plain projection (open + rebuild)",
      ms: projectionMs,
      "events/s": (events / projectionMs) * 1000,
    },
    {
      case: "process, 1,000 instances (open + handle all)",
      ms: processMs,
      "events/s": (events / processMs) * 1000,
    },
  );
  printBrowserTable(
    `Process throughput, ${total} events x 2 rounds (${modeNote()}); process / projection = ${(projectionMs / processMs).toFixed(3)}x`,
    rows,
  );
});

// `execute` throughput in Chromium (on-disk profile, production build): 10,000 events as one
// command, as 100 commands of 100, and as 10,000 single-event commands, awaited one by one and
// fired at once, against raw IndexedDB puts with the engine's indexes in the same page. Each
// engine case alternates with its raw counterpart (or with the other single-command case) in
// slices, so drift hits both sides alike. Prints a table; asserts nothing about speed.
import { it } from "vitest";
import { loadProd, modeNote, openProd, printBrowserTable, scaled } from "./browser-kit.ts";
import { openRaw, rawPut } from "./raw-idb.ts";

const run = crypto.randomUUID().slice(0, 8);

/** Rows shaped like the engine's: envelope, stream position, global seq, recordedAt. */
function rawRows(stream: string, count: number, from: { seq: number }): object[] {
  return Array.from({ length: count }, (_, i) => {
    from.seq++;
    return {
      id: crypto.randomUUID(),
      stream,
      position: from.seq,
      seq: from.seq,
      recordedAt: Date.now(),
      type: "item.added",
      version: 1,
      data: { id: `r${from.seq}`, title: `Item ${i}` },
      meta: { actor: "bench", device: "bench", at: Date.now() },
    };
  });
}

// 20,000 single commands: more than the default 10 minutes on a loaded 2-core machine.
const timeout = 1_800_000;

it("execute throughput: one command, 100 x 100, single commands awaited and fired at once, vs raw puts", {
  timeout,
}, async () => {
  const total = scaled(10_000, 100);
  const batch = 100;
  const slices = 10;
  const chronicle = await openProd(`bench-exec-${run}`);
  const { tally } = await loadProd();
  const raw = await openRaw(`bench-exec-raw-${run}`);
  const seq = { seq: 0 };
  const elapsed = async (work: () => Promise<unknown>) => {
    const start = performance.now();
    await work();
    return performance.now() - start;
  };
  // Warm-up (JIT, database open, first transactions) on both sides.
  await chronicle.execute("warm", tally, { type: "addMany", count: batch, prefix: "w" });
  await rawPut(raw, rawRows("warm", batch, seq), { commit: true });

  // One command of `total` events, vs one raw transaction of `total` rows: two rounds each.
  let oneEngine = 0;
  let oneRaw = 0;
  for (let round = 0; round < 2; round++) {
    const rows = rawRows(`one-${round}`, total, seq);
    oneRaw += await elapsed(() => rawPut(raw, rows, { commit: true }));
    oneEngine += await elapsed(() =>
      chronicle.execute(`exec:one-${round}`, tally, {
        type: "addMany",
        count: total,
        prefix: `o${round}-`,
      }),
    );
  }

  // total/100 commands of 100 events, vs as many raw transactions of 100 rows, alternating.
  let batchedEngine = 0;
  let batchedRaw = 0;
  for (let i = 0; i < total / batch; i++) {
    const rows = rawRows("batched", batch, seq);
    batchedRaw += await elapsed(() => rawPut(raw, rows, { commit: true }));
    batchedEngine += await elapsed(() =>
      chronicle.execute("exec:batched", tally, { type: "addMany", count: batch, prefix: `b${i}-` }),
    );
  }

  // `total` single-event commands: awaited one by one, and fired at once (as clicks do), in
  // alternating slices of total/10; raw single-row transactions awaited one by one beside them.
  let awaited = 0;
  let fired = 0;
  let singleRaw = 0;
  const slice = total / slices;
  for (let s = 0; s < slices; s++) {
    awaited += await elapsed(async () => {
      for (let i = 0; i < slice; i++) {
        await chronicle.execute("exec:awaited", tally, {
          type: "add",
          id: `a${s}-${i}`,
          title: `Item ${i}`,
        });
      }
    });
    fired += await elapsed(() =>
      Promise.all(
        Array.from({ length: slice }, (_, i) =>
          chronicle.execute("exec:fired", tally, {
            type: "add",
            id: `f${s}-${i}`,
            title: `Item ${i}`,
          }),
        ),
      ),
    );
    // The raw reference needs fewer samples: a fifth of each slice.
    singleRaw += await elapsed(async () => {
      for (let i = 0; i < slice / 5; i++) {
        await rawPut(raw, rawRows("single", 1, seq), { commit: true });
      }
    });
  }
  await chronicle.close();
  raw.close();

  const rate = (events: number, ms: number) => Math.round(events / (ms / 1000));
  const row = (name: string, events: number, ms: number, ratio = "", target = "") => ({
    case: name,
    events,
    ms: Math.round(ms),
    "events/s": rate(events, ms),
    ratio,
    target,
  });
  const verdict = (value: number, min: number) => `>= ${min}x: ${value >= min ? "met" : "NOT met"}`;
  const oneRatio = oneRaw / oneEngine;
  const batchedRatio = batchedRaw / batchedEngine;
  const firedRatio = awaited / fired;
  printBrowserTable(`execute throughput (${modeNote()}; ratios: events/s over the baseline)`, [
    row(`raw put, 1 transaction of ${total} (x2)`, 2 * total, oneRaw),
    row(
      `execute, 1 command of ${total} events (x2)`,
      2 * total,
      oneEngine,
      `${oneRatio.toFixed(2)}x raw`,
      verdict(oneRatio, 0.7),
    ),
    row(`raw put, ${total / batch} transactions of ${batch}`, total, batchedRaw),
    row(
      `execute, ${total / batch} commands of ${batch} events`,
      total,
      batchedEngine,
      `${batchedRatio.toFixed(2)}x raw`,
      verdict(batchedRatio, 0.7),
    ),
    row(`raw put, ${total / 5} transactions of 1, awaited`, total / 5, singleRaw),
    row(
      `execute, ${total} single commands, awaited`,
      total,
      awaited,
      `${((5 * singleRaw) / awaited).toFixed(2)}x raw`,
    ),
    row(
      `execute, ${total} single commands, fired at once`,
      total,
      fired,
      `${firedRatio.toFixed(2)}x awaited`,
      verdict(firedRatio, 1),
    ),
  ]);
});

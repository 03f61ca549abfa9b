// @chronicle/browser benchmarks in Chromium: append throughput against raw IndexedDB, write-to-
// render latency against its floor, and cold start on 100,000 events. Ratios within one run.
// These run the sources through the Vite dev server (the store-level parts are not in the
// production build of bench/app); the profile is on disk like every browser benchmark's.
import { createEnvelope, type NewEvent } from "@chronicle/core";
import { it } from "vitest";
import { cdp } from "vitest/browser";
import { board, boardView } from "../packages/browser/src/__fixtures__/board.ts";
import { createChronicle } from "../packages/browser/src/main/create-chronicle.ts";
import { DexieEventStore } from "../packages/browser/src/store/dexie-store.ts";
import { ChronicleDb, type EventRow } from "../packages/browser/src/store/schema.ts";
import { openRaw, rawPut } from "./raw-idb.ts";
import { percentile, printTable, time } from "./table.ts";

const run = crypto.randomUUID().slice(0, 8);
const boardWorker = () =>
  new Worker(new URL("../packages/browser/src/__fixtures__/board.worker.ts", import.meta.url), {
    type: "module",
  });

function events(stream: string, count: number, tag: string): NewEvent[] {
  return Array.from({ length: count }, (_, index) =>
    createEnvelope(
      stream,
      { type: "card.added", version: 1, data: { id: `${tag}${index}`, title: `Card ${index}` } },
      { actor: "bench", device: "bench" },
    ),
  );
}

function asRows(batch: NewEvent[], head: number, seq: number): EventRow[] {
  return batch.map((event, index) => ({
    ...event,
    position: head + index + 1,
    recordedAt: Date.now(),
    seq: seq + index + 1,
  }));
}

/**
 * printTable, as one console.log call: in browser mode Vitest prefixes every intercepted call
 * with the test name, which would split the table line by line.
 */
function printBrowserTable(...args: Parameters<typeof printTable>): void {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.map(String).join(" "));
  try {
    printTable(...args);
  } finally {
    console.log = log;
  }
  console.log(lines.join("\n"));
}

/**
 * The JS heap in use of a worker whose URL contains `urlPart`, after a GC, through the DevTools
 * protocol (workers have no performance.memory). Undefined when the protocol is unavailable.
 */
async function workerHeap(urlPart: string): Promise<number | undefined> {
  type TargetInfo = { targetId: string; type: string; url: string };
  const session = cdp() as unknown as {
    send(method: string, params?: object): Promise<unknown>;
    on(event: string, listener: (payload: never) => void): void;
  };
  const replies = new Map<number, (result: unknown) => void>();
  // Vitest sets its CDP session up on first use; a listener registered while it does so missed
  // the replies (the heap read n/a whenever this was the page's first CDP call). One round trip
  // first, then the listener.
  await session.send("Target.getTargets");
  session.on("Target.receivedMessageFromTarget", (event: { message: string }) => {
    const message = JSON.parse(event.message) as { id?: number; result?: unknown };
    if (message.id !== undefined) replies.get(message.id)?.(message.result);
  });
  let nextId = 1;
  const call = (sessionId: string, method: string) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      replies.set(id, resolve);
      void session.send("Target.sendMessageToTarget", {
        sessionId,
        message: JSON.stringify({ id, method }),
      });
    });
  try {
    const { targetInfos } = (await session.send("Target.getTargets")) as {
      targetInfos: TargetInfo[];
    };
    // Workers of earlier benchmarks may still be listed though terminated, and never answer:
    // try the newest first, each with a time limit (a bench is not a test: n/a beats a hang).
    const candidates = targetInfos
      .filter((t) => t.type === "worker" && t.url.includes(urlPart))
      .reverse();
    const within = <T>(promise: Promise<T>) =>
      Promise.race([promise, new Promise<undefined>((resolve) => setTimeout(resolve, 2_000))]);
    for (const candidate of candidates) {
      const target = (await session.send("Target.attachToTarget", {
        targetId: candidate.targetId,
        flatten: false,
      })) as { sessionId: string };
      if ((await within(call(target.sessionId, "HeapProfiler.collectGarbage"))) === undefined) {
        continue;
      }
      const usage = (await within(call(target.sessionId, "Runtime.getHeapUsage"))) as
        | { usedSize: number }
        | undefined;
      if (usage) return usage.usedSize;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

it("append throughput: engine vs raw IndexedDB (same rows, same page)", async () => {
  const rows: Array<Record<string, string | number>> = [];
  for (const [label, batchSize, batches] of [
    ["batches of 100", 100, 100],
    ["single events", 1, 500],
  ] as const) {
    const raw = await openRaw(`bench-raw-${run}-${batchSize}`);
    const store = new DexieEventStore({
      name: `bench-engine-${run}-${batchSize}`,
      broadcast: false,
    });
    const prepared = Array.from({ length: batches }, (_, i) => events("s", batchSize, `b${i}-`));
    // Warm up both paths (JIT, database open).
    await rawPut(raw, asRows(events("warm", batchSize, "w"), 0, 1_000_000));
    await store.append("warm", events("warm", batchSize, "w"));
    // Interleaved, so that drift (database growth, GC, the other core) hits both sides alike.
    let rawMs = 0;
    let engineMs = 0;
    for (let i = 0; i < batches; i++) {
      const rowsOfBatch = asRows(prepared[i]!, i * batchSize, i * batchSize);
      rawMs += await time(() => rawPut(raw, rowsOfBatch));
      engineMs += await time(() => store.append("s", prepared[i]!));
    }
    const count = batchSize * batches;
    rows.push(
      {
        case: `raw IDB put, ${label}`,
        events: count,
        ms: rawMs,
        "events/s": Math.round(count / (rawMs / 1000)),
      },
      {
        case: `engine append, ${label}`,
        events: count,
        ms: engineMs,
        "events/s": Math.round(count / (engineMs / 1000)),
      },
      {
        case: `ratio engine/raw, ${label}`,
        events: "",
        ms: "",
        "events/s": (rawMs / engineMs).toFixed(2),
      },
    );
    raw.close();
    await store.close();
  }
  printBrowserTable(
    "Store append throughput in Chromium, on-disk profile, dev-server sources (target: engine >= 0.8x raw for batches)",
    rows as never,
  );
});

it("write-to-render latency: execute until the subscriber sees it, vs the floor", async () => {
  const chronicle = await createChronicle({
    worker: boardWorker(),
    name: `bench-latency-${run}`,
    persist: false,
  });
  const stream = "board:latency";
  let notify: ((count: number) => void) | undefined;
  const stop = chronicle.subscribe(boardView, stream, (state) => notify?.(state.count));
  // The floor: one raw IndexedDB transaction commit plus one postMessage round trip. The
  // engine commits with an explicit `commit()`, so the floor is also measured that way.
  const raw = await openRaw(`bench-floor-${run}`);
  const echo = new Worker(
    URL.createObjectURL(
      new Blob(["onmessage = (e) => postMessage(e.data)"], { type: "text/javascript" }),
    ),
  );
  const floor = async (row: EventRow, commit: boolean) => {
    const start = performance.now();
    await rawPut(raw, [row], { commit });
    await new Promise<void>((resolve) => {
      echo.onmessage = () => resolve();
      echo.postMessage(row);
    });
    return performance.now() - start;
  };
  const iterations = 200;
  const warmup = 20;
  const latencies: number[] = [];
  const floors: number[] = [];
  const commitFloors: number[] = [];
  // Interleaved, so that drift (the other core, the database's own housekeeping) hits every
  // side alike.
  for (let i = 0; i < iterations + warmup; i++) {
    const seen = new Promise<void>((resolve) => {
      notify = (count) => count === i + 1 && resolve();
    });
    const start = performance.now();
    void chronicle.execute(stream, board, { type: "addCard", id: `c${i}`, title: `Card ${i}` });
    await seen;
    const latency = performance.now() - start;
    const [row, commitRow] = asRows(events(stream, 2, `f${i}`), 2 * i, 2 * i);
    const plain = await floor(row!, false);
    const committed = await floor(commitRow!, true);
    if (i < warmup) continue;
    latencies.push(latency);
    floors.push(plain);
    commitFloors.push(committed);
  }
  stop();
  await chronicle.close();
  echo.terminate();
  raw.close();
  for (const values of [latencies, floors, commitFloors]) values.sort((a, b) => a - b);
  const p = (values: number[], q: number) => percentile(values, q);
  const ratio = (over: number[], q: number) => (p(latencies, q) / p(over, q)).toFixed(2);
  printBrowserTable(
    "Write-to-render latency in Chromium, no sync, on-disk profile, dev-server sources (target: p50 <= 1.5x floor)",
    [
      {
        case: "floor: IDB commit + postMessage round trip",
        p50: p(floors, 50),
        p95: p(floors, 95),
      },
      {
        case: "floor with an explicit commit()",
        p50: p(commitFloors, 50),
        p95: p(commitFloors, 95),
      },
      { case: "execute -> subscriber (main thread)", p50: p(latencies, 50), p95: p(latencies, 95) },
      { case: "ratio engine/floor", p50: ratio(floors, 50), p95: ratio(floors, 95) },
      {
        case: "ratio engine/floor with commit()",
        p50: ratio(commitFloors, 50),
        p95: ratio(commitFloors, 95),
      },
    ] as never,
  );
});

it("cold start: 100,000 events with a snapshot and persisted projection", async () => {
  const name = `bench-cold-${run}`;
  const total = 100_000;
  const db = new ChronicleDb(name);
  const seedMs = await time(async () => {
    for (let start = 0; start < total; start += 10_000) {
      const batch = events("board:1", 10_000, `c${start}-`);
      await db.events.bulkAdd(asRows(batch, start, start));
    }
    const state = { count: total, titles: { last: "Card 99999" } };
    await db.projections.put({
      key: "board-view/board:1",
      name: boardView.name,
      version: boardView.version,
      checkpoint: total,
      state,
    });
    await db.snapshots.put({
      key: "decider/board/board:1",
      position: total,
      version: board.version,
      state: { ids: [] },
      takenAt: Date.now(),
    });
  });
  db.close();

  const start = performance.now();
  const chronicle = await createChronicle({ worker: boardWorker(), name, persist: false });
  const openMs = performance.now() - start;
  const state = await chronicle.load(boardView, "board:1");
  const firstReadMs = performance.now() - start;
  const writeMs = await time(() =>
    chronicle.execute("board:1", board, { type: "addCard", id: "fresh", title: "Fresh" }),
  );
  const { events: stored } = await chronicle.diagnostics();
  const heap = await workerHeap("board.worker");
  await chronicle.close();
  if (state.count !== total || stored !== total + 1)
    throw new Error("cold start read the wrong state");
  const mib = (bytes: number | undefined) =>
    bytes === undefined ? "n/a" : (bytes / 2 ** 20).toFixed(1);
  printBrowserTable(
    "Cold start on 100,000 events + snapshot (worker boot, open, first read; on-disk profile, dev-server sources)",
    [
      { case: "seed 100,000 events (not part of the start)", ms: seedMs, "worker heap MiB": "" },
      { case: "createChronicle (worker + open)", ms: openMs, "worker heap MiB": "" },
      { case: "time to first read", ms: firstReadMs, "worker heap MiB": mib(heap) },
      { case: "first command after start", ms: writeMs, "worker heap MiB": "" },
    ] as never,
  );
});

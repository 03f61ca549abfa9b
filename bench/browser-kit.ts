// internal: not exported. What the browser benchmarks share: the production build of the bench
// app (bench/prod-build.ts), the floor a write-to-render latency is measured against, tables.
import type { Chronicle } from "@chronicle/browser";
import { inject } from "vitest";
import { commands } from "vitest/browser";
import type * as BenchApp from "./app/main.ts";
import { printTable } from "./table.ts";

/** Where bench/prod-build.ts's output is served (see serveProd). */
export const prodPrefix = "/__prod/";

/** The production build's main-thread module: createChronicle and the bench app. */
export function loadProd(): Promise<typeof BenchApp> {
  return import(/* @vite-ignore */ `${prodPrefix}main.js`) as Promise<typeof BenchApp>;
}

/** How the bench worker syncs (none when `node` is absent). */
export interface WorkerSync {
  node: string;
  token: string;
  online: boolean;
  streams?: readonly string[];
  actor?: string;
  /** Start a new device from the node's snapshots (bench/app/bench.worker.ts). @default false */
  snapshots?: boolean;
}

/** A worker running the production build of bench/app/bench.worker.ts. */
export function prodWorker(sync?: WorkerSync): Worker {
  const query = sync
    ? `?${new URLSearchParams({
        node: sync.node,
        token: sync.token,
        online: sync.online ? "1" : "0",
        streams: (sync.streams ?? []).join(","),
        actor: sync.actor ?? "bench",
        snapshots: sync.snapshots ? "1" : "0",
      })}`
    : "";
  return new Worker(`${prodPrefix}bench.worker.js${query}`, { type: "module" });
}

/** Opens the production build's Chronicle on a fresh worker. */
export async function openProd(name: string, sync?: WorkerSync): Promise<Chronicle> {
  const { createChronicle } = await loadProd();
  return createChronicle({ worker: prodWorker(sync), name, persist: false });
}

/**
 * The floor of a write-to-render: postMessage -> a 1-row IndexedDB commit (explicit commit(),
 * the engine's indexes) in a worker -> reply. One call is one sample, in ms.
 */
export function createFloor(name: string): { sample(): Promise<number>; close(): void } {
  const source = `
    const open = indexedDB.open(${JSON.stringify(name)}, 1);
    open.onupgradeneeded = () => {
      const store = open.result.createObjectStore("events", { keyPath: ["stream", "id"] });
      store.createIndex("seq", "seq", { unique: true });
      store.createIndex("stream_position", ["stream", "position"], { unique: true });
      store.createIndex("stream_recordedAt", ["stream", "recordedAt"]);
    };
    const ready = new Promise((resolve) => { open.onsuccess = () => resolve(open.result); });
    onmessage = async ({ data }) => {
      const db = await ready;
      const tx = db.transaction("events", "readwrite");
      tx.objectStore("events").put(data);
      tx.commit();
      tx.oncomplete = () => postMessage(data.seq);
    };`;
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
  let seq = 0;
  return {
    sample() {
      seq++;
      const row = {
        id: crypto.randomUUID(),
        stream: "floor",
        position: seq,
        seq,
        recordedAt: Date.now(),
        type: "item.added",
        version: 1,
        data: { id: `f${seq}`, title: `Item ${seq}` },
        meta: { actor: "bench", device: "bench", at: Date.now() },
      };
      const start = performance.now();
      return new Promise<number>((resolve) => {
        worker.onmessage = () => resolve(performance.now() - start);
        worker.postMessage(row);
      });
    },
    close: () => worker.terminate(),
  };
}

/** Resolves with the first state `subscribe` reports that `match` accepts. */
export function until<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  match: (value: T) => boolean,
): Promise<T> {
  return new Promise((resolve) => {
    let stop: (() => void) | undefined;
    let done = false;
    stop = subscribe((value) => {
      if (done || !match(value)) return;
      done = true;
      resolve(value);
      // The first call may come before `subscribe` returned.
      queueMicrotask(() => stop?.());
    });
  });
}

/** The on-disk profile's IndexedDB footprint, through the Node side (bench/profile.ts). */
export const profileUsage = (since?: number) => commands.profileUsage(since);

/**
 * printTable, as one console.log call: in browser mode Vitest prefixes every intercepted call
 * with the test name, which would split the table line by line.
 */
export function printBrowserTable(...args: Parameters<typeof printTable>): void {
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

/** Median (p50) and p95 of unsorted samples. */
export function quantiles(samples: readonly number[]): { p50: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95) };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** BENCH_SCALE (bench/vitest.browser.config.ts). */
    benchScale: number;
  }
}

/** A count scaled by BENCH_SCALE (e.g. 0.1 for a quick run), never below `min`. */
export function scaled(count: number, min = 1): number {
  const scale = inject("benchScale");
  return Math.max(min, Math.round(count * scale));
}

/** What a table's title says of the mode its figures were taken in. */
export function modeNote(): string {
  return `Chromium, on-disk profile, production build of ${inject("benchBuild")}`;
}

// internal: not exported. Starts board workers for the browser tests and waits for events
// (statuses, subscriber calls) without sleeping.
import type { Chronicle } from "../main/chronicle-types.ts";
import { createChronicle } from "../main/create-chronicle.ts";
import type { HostStatus } from "../shared/host-api.ts";

export function boardWorker(): Worker {
  return new Worker(new URL("./board.worker.ts", import.meta.url), { type: "module" });
}

export interface TestChronicle {
  chronicle: Chronicle;
  worker: Worker;
  statuses: HostStatus[];
  /** Resolves at the first status (already seen or future) that matches. */
  status(match: (status: HostStatus) => boolean): Promise<HostStatus>;
}

export async function connect(
  name: string,
  worker = boardWorker(),
  onStatus?: (status: HostStatus) => void,
): Promise<TestChronicle> {
  const statuses: HostStatus[] = [];
  const waiting = new Set<{
    match: (s: HostStatus) => boolean;
    resolve: (s: HostStatus) => void;
  }>();
  const chronicle = await createChronicle({
    worker,
    name,
    persist: false,
    onStatus(status) {
      statuses.push(status);
      onStatus?.(status);
      for (const waiter of [...waiting]) {
        if (waiter.match(status)) {
          waiting.delete(waiter);
          waiter.resolve(status);
        }
      }
    },
  });
  return {
    chronicle,
    worker,
    statuses,
    status: (match) => {
      const seen = statuses.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.add({ match, resolve }));
    },
  };
}

/** Resolves with the first value `subscribe` delivers that satisfies `until`. */
export function firstMatching<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  until: (value: T) => boolean,
): Promise<T> {
  return new Promise((resolve) => {
    let stop: (() => void) | undefined;
    let done = false;
    stop = subscribe((value) => {
      if (done || !until(value)) return;
      done = true;
      queueMicrotask(() => stop?.());
      resolve(value);
    });
    if (done) stop();
  });
}

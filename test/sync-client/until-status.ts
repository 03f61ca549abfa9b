// The e2e tests' one way to wait for a sync status: resolves at the first status of `stream` on
// `engine` (now or later) that matches, then unsubscribes.
import type { SyncStatus } from "@chronicle/core";
import type { SyncEngine } from "@chronicle/sync";

export function untilStatus(
  engine: SyncEngine,
  stream: string,
  match: (status: SyncStatus) => boolean,
): Promise<SyncStatus> {
  return new Promise((resolve) => {
    let done = false;
    const stop = engine.onSyncStatus(stream, (status) => {
      if (done || !match(status)) return;
      done = true;
      // The listener may be called at once, before onSyncStatus returned `stop`.
      queueMicrotask(() => stop());
      resolve(status);
    });
  });
}

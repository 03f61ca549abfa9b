import type { SyncStatus } from "@chronicle/core";
import { useCallback, useSyncExternalStore } from "react";
import { useSource } from "./context.tsx";
import type { SyncStatusSource } from "./sources.ts";
import { useStableSnapshot } from "./stable-snapshot.ts";

/**
 * A stream's sync status: `state` (offline / connecting / syncing / synced / unauthorized / error), the
 * `pending` count, the `confirmedHead` and the `lastError`. `undefined` until the first status
 * is known, and without sync. `source` defaults to the provider's Chronicle; a sync engine fits.
 *
 * @example
 * const status = useSyncStatus("board:1");
 * <span className={status?.state}>{status?.state ?? "offline"} ({status?.pending ?? 0} pending)</span>;
 */
export function useSyncStatus(stream: string, source?: SyncStatusSource): SyncStatus | undefined {
  const chronicle = useSource("useSyncStatus", source, (provided) => provided);
  const subscribe = useCallback(
    (onChange: () => void) => chronicle.onSyncStatus(stream, () => onChange()),
    [chronicle, stream],
  );
  const read = useStableSnapshot(
    useCallback(() => chronicle.syncStatus(stream), [chronicle, stream]),
  );
  return useSyncExternalStore(subscribe, read, read);
}

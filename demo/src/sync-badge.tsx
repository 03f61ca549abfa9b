import { useChronicle } from "@chronicle/react";
import { useSyncExternalStore } from "react";

interface SyncInfo {
  state: string;
  pending: number;
  confirmedHead: number;
}

interface SyncSource {
  syncStatus(stream: string): SyncInfo | undefined;
  onSyncStatus(stream: string, listener: (status: SyncInfo) => void): () => void;
}

/** offline / connecting / syncing / synced, with the pending count. */
export function SyncBadge(props: { stream: string }) {
  const chronicle = useChronicle() as unknown as SyncSource;
  const status = useSyncExternalStore(
    (onChange) => chronicle.onSyncStatus(props.stream, () => onChange()),
    () => chronicle.syncStatus(props.stream),
  );
  const state = status?.state ?? "offline";
  return (
    <span className={`sync ${state}`} data-sync={state} data-pending={status?.pending ?? 0}>
      {state}
      {status && status.pending > 0 ? ` · ${status.pending} pending` : ""}
    </span>
  );
}

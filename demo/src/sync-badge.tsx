import { useSyncStatus } from "@chronicle/react";
import { useEffect, useState } from "react";
import { networkChannel } from "./board.ts";

/** offline / connecting / syncing / synced, with the pending count. */
export function SyncBadge(props: { stream: string }) {
  const status = useSyncStatus(props.stream);
  const state = status?.state ?? "offline";
  return (
    <span className={`sync ${state}`} data-sync={state} data-pending={status?.pending ?? 0}>
      {state}
      {status && status.pending > 0 ? ` · ${status.pending} pending` : ""}
    </span>
  );
}

/** Cuts this device's connection to the node (the worker's sync engine goes offline). */
export function OfflineSwitch(props: { device: string }) {
  const [offline, setOffline] = useState(false);
  useEffect(() => {
    const channel = new BroadcastChannel(networkChannel(props.device));
    channel.postMessage({ online: !offline });
    return () => channel.close();
  }, [offline, props.device]);
  return (
    <label className="offline">
      <input type="checkbox" checked={offline} onChange={(e) => setOffline(e.target.checked)} />{" "}
      Offline
    </label>
  );
}

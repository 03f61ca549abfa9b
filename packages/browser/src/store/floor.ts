// internal: not exported. A stream's confirmed floor (docs/architecture.md, "The local log"): a
// log started from the node's snapshots holds floor+1..head. Kept in the stream's sync state
// (`meta` row `stream/<id>`, see sync-tables.ts), with the snapshots it started from.
import type { Snapshot } from "@chronicle/core";
import type { ChronicleDb, StreamSyncState } from "./schema.ts";

/** The sync state's fields for a log started after a floor (absent for a log from 1). */
export interface FloorState {
  /** Events 1..floor are not held (yet). */
  floor?: number;
  /** The node's snapshots the log started from, at the floor it started at. */
  startSnapshots?: Snapshot[];
}

/** The stream's sync state row key. */
export const syncStateKey = (stream: string) => `stream/${stream}`;

/** The stream's floor, 0 for a log held from its first event; joins the current transaction. */
export async function readFloor(db: ChronicleDb, stream: string): Promise<number> {
  const row = await db.meta.get(syncStateKey(stream));
  return ((row?.value as (StreamSyncState & FloorState) | undefined)?.floor ?? 0) as number;
}

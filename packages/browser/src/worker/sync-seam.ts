// The seam a sync engine plugs into (a later issue). The leader starts it with the store and the
// database; see the README for the tables it works on (pending, meta) and the operations the
// schema is designed for.

import type { DexieEventStore } from "../store/dexie-store.ts";
import type { ChronicleDb } from "../store/schema.ts";

export interface SyncContext {
  store: DexieEventStore;
  db: ChronicleDb;
  /** This installation's id (`meta.device` of the events it writes). */
  deviceId: string;
}

export interface SyncHandle {
  /** Stops syncing; called when this context stops being the leader or closes. */
  stop(): void | Promise<void>;
}

/** Starts syncing. Only the leader tab runs it, so a database syncs through one connection. */
export type SyncStarter = (context: SyncContext) => SyncHandle | Promise<SyncHandle>;

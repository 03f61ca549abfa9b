// The seam a sync engine plugs into. The leader starts it with the store, the database and a
// LocalLog over them (DexieLocalLog); see the README ("Sync") for the wiring with @chronicle/sync.
// The types here are structural on purpose: this package does not import @chronicle/sync.

import type { Decider, LocalLog } from "@chronicle/core";
import type { RejectedInfo, SyncStatusInfo } from "../shared/host-api.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { ChronicleDb } from "../store/schema.ts";

export type { RejectedInfo, SyncStatusInfo };

export interface SyncContext {
  store: DexieEventStore;
  db: ChronicleDb;
  /** This installation's id (`meta.device` of the events it writes). */
  deviceId: string;
  /** `meta.actor` of the events written here. */
  actor: string;
  /** The device's confirmed prefix + pending events, for the sync engine (`local`). */
  localLog: LocalLog;
  /** The app's deciders, for deciding strict commands again after a conflict. */
  deciders: readonly Decider<any, any, any>[];
  /**
   * Calls `listener` with the stream after pending events were written, in this tab or another
   * one: kick the engine (`engine.kick(stream)`, or start the stream). Returns the unsubscribe.
   */
  onLocalWrite(listener: (stream: string) => void): () => void;
  /** Call after the engine changed a stream (its `onChange`): projections in every tab update. */
  changed(stream: string): void;
  /** Call with every status of a stream (the engine's `onStatus`): every tab's main thread hears it. */
  reportStatus(stream: string, status: SyncStatusInfo): void;
  /** Call with the engine's rejected notices (`onRejected`). */
  reportRejected(notice: RejectedInfo): void;
}

export interface SyncHandle {
  /** Stops syncing; called when this context stops being the leader or closes. */
  stop(): void | Promise<void>;
}

/**
 * Starts syncing. Only the leader tab runs it, so a database syncs through one connection.
 * Configuring one also switches commands to pending writes: they are stored in `pending` (with
 * their command) and positions come from the node.
 */
export type SyncStarter = (context: SyncContext) => SyncHandle | Promise<SyncHandle>;

import type { ChronicleErrorJSON, RecordedEvent } from "@chronicle/core";

/** What a UI shows about one stream's sync. */
export interface SyncStatus {
  /**
   * - `offline`: no connection (network down, switched off, or waiting to reconnect);
   * - `connecting`: opening a connection;
   * - `syncing`: connected, with pushes or pulls under way;
   * - `synced`: connected, nothing pending, caught up with the node;
   * - `error`: stopped on an error that retrying cannot fix (e.g. `unauthorized`).
   */
  state: "offline" | "connecting" | "syncing" | "synced" | "error";
  /** Local events the node has not acknowledged yet. */
  pending: number;
  /** The highest node position held locally. */
  confirmedHead: number;
  lastError?: ChronicleErrorJSON;
}

/** A strict command the node's newer state made impossible, or events the node refused. */
export interface RejectedNotice {
  stream: string;
  /** The command's id, when the events came from a command. */
  commandId?: string;
  decider?: string;
  command?: unknown;
  /** Why: the code `decide` threw on the new state, or the node's error code. */
  code: string;
  message: string;
  /** The pending events that were dropped. */
  events: RecordedEvent[];
}

/** The node's log was recreated (new epoch): the confirmed cache was dropped. */
export interface EpochResetNotice {
  stream: string;
  previousEpoch: string;
  epoch: string;
  /** Pending events that will be pushed again. */
  pending: number;
}

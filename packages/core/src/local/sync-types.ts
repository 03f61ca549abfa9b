// The seam between a host (the browser worker, a test) and a sync engine (@chronicle/sync's
// createSyncStarter), declared here beside LocalLog so that both sides name the same types
// without depending on each other.

import type { Decider } from "../decider/define-decider.ts";
import type { ChronicleErrorJSON } from "../errors.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import type { LocalLog } from "./local-log.ts";

/** What a UI shows about one stream's sync. */
export interface SyncStatus {
  /**
   * - `offline`: no connection (network down, switched off, or waiting to reconnect);
   * - `connecting`: opening a connection;
   * - `syncing`: connected, with pushes or pulls under way;
   * - `synced`: connected, nothing pending, caught up with the node;
   * - `unauthorized`: the node refused a fresh token too, or the token function failed
   *   (`lastError` says why). Not final: the engine keeps retrying on its backoff schedule,
   *   asking the token function each time, and moves on as soon as a token is accepted;
   * - `error`: stopped on an error that retrying cannot fix (`forbidden`: the token does not
   *   grant the stream). The stream stays stopped until the app starts it again.
   */
  state: "offline" | "connecting" | "syncing" | "synced" | "unauthorized" | "error";
  /** Local events the node has not acknowledged yet. */
  pending: number;
  /** The highest node position held locally. */
  confirmedHead: number;
  /** The last error the stream's sync met; kept until it syncs again. */
  lastError?: ChronicleErrorJSON;
}

/** A strict command the node's newer state made impossible, or events the node refused. */
export interface RejectedNotice {
  /** The stream the events were for. */
  stream: string;
  /** The command's id, when the events came from a command. */
  commandId?: string;
  /** The name of the decider that decided the command. */
  decider?: string;
  /** The command as given to `decide` (JSON). */
  command?: unknown;
  /** Why: the code `decide` threw on the new state, or the node's error code. */
  code: string;
  /** The error's message, for people. */
  message: string;
  /** The pending events that were dropped. */
  events: RecordedEvent[];
}

/** The node's log was recreated (new epoch): the confirmed cache was dropped. */
export interface EpochResetNotice {
  /** The stream whose log was recreated. */
  stream: string;
  /** The epoch the device had synced with. */
  previousEpoch: string;
  /** The node's new epoch. */
  epoch: string;
  /** Pending events that will be pushed again. */
  pending: number;
}

/** What a host gives its sync starter. */
export interface SyncContext {
  /** This installation's id (`meta.device` of the events it writes). */
  deviceId: string;
  /** `meta.actor` of the events written here. */
  actor: string;
  /** The device's confirmed prefix + pending events, for the sync engine (`local`). */
  localLog: LocalLog;
  /** The app's deciders, for deciding strict commands again after a conflict. */
  deciders: readonly Decider<any, any, any>[];
  /**
   * Calls `listener` with the stream after pending events were written (by this host or, in
   * the browser, by another tab): kick the engine or start the stream. Returns the unsubscribe.
   */
  onLocalWrite(listener: (stream: string) => void): () => void;
  /** Call after the engine changed a stream's local log (its `onChange`): projections update. */
  changed(stream: string): void;
  /** Call with every status of a stream (the engine's `onSyncStatus`). */
  reportStatus(stream: string, status: SyncStatus): void;
  /** Call with the engine's rejected notices (`onRejected`). */
  reportRejected(notice: RejectedNotice): void;
}

/** A running sync, as its starter hands it back to the host. */
export interface SyncHandle {
  /** Stops syncing; called when the host stops leading or closes. */
  stop(): void | Promise<void>;
}

/**
 * Starts syncing over a host's local log. In the browser only the leader tab runs it, so a
 * database syncs through one connection; configuring one switches commands to pending writes.
 */
export type SyncStarter = (context: SyncContext) => SyncHandle | Promise<SyncHandle>;

import type { ConfirmedEvent, RecordedEvent } from "../events/envelope.ts";
import type { Snapshot } from "../snapshot/snapshot-store.ts";

/**
 * The command that produced pending events, stored with them so a strict write can be decided
 * again after a conflict, even after a reload.
 */
export interface PendingCommand {
  /** The command's id (the events' causationId). */
  id: string;
  /** The decider's name. */
  decider: string;
  /** The command as given to `decide` (JSON). */
  command: unknown;
  /** Strict: pushed with `expected`; rejected by the node if the stream moved meanwhile. */
  strict: boolean;
  /** The confirmed head the command was decided on. */
  basePosition: number;
}

/** A local event the node has not ordered yet. */
export interface PendingEvent {
  /** Local order, increasing per stream. */
  localSeq: number;
  /** The event as written locally (no position yet). */
  event: RecordedEvent;
  /** The id of the command that produced it, when it came from a command. */
  commandId?: string;
}

/** What the sync engine persists per stream besides events. */
export interface StreamSyncMeta {
  /** The node's epoch for this stream's log, once known. */
  epoch?: string;
}

/**
 * Where a confirmed log starts when a new device starts it from the node's snapshots instead of
 * the first event (docs/architecture.md, "The local log", floor).
 */
export interface ConfirmedStart {
  /** Events 1..floor are not held (yet): the log holds floor+1..head, gapless. At least 1. */
  floor: number;
  /** The node's epoch of the log the floor and the snapshots belong to. */
  epoch: string;
  /**
   * States at `floor` of the app's deciders and projections (`position` = `floor`), keyed
   * `${kind}/${name}/${stream}` as every snapshot.
   */
  snapshots: readonly Snapshot[];
}

/**
 * A device's local copy of streams: a **confirmed prefix** (events with node positions, gapless
 * from 1) followed by **pending** events in local order. The sync engine drives it; the browser
 * store (IndexedDB) and `MemoryLocalLog` implement it. Every method is atomic. An event id names
 * one event within a stream: the same id in two streams is two events (as at the node, which
 * keeps one log per stream).
 */
export interface LocalLog {
  /** The confirmed head: the highest position held (the floor when none), 0 when none. */
  confirmedHead(stream: string): Promise<number>;
  /**
   * The confirmed floor: events 1..floor are not held here (yet). 0 when the log starts at the
   * first event, which is always the case unless it was started with `startConfirmedAt`.
   */
  confirmedFloor(stream: string): Promise<number>;
  /**
   * Confirmed events with position > `after`, in order. Reading from below the floor fails
   * with `not-found` and `details.reason` `"history-incomplete"` (see `historyIncomplete`):
   * those events are not here yet, and leaving them out would fold a wrong state.
   */
  readConfirmed(stream: string, after?: number, limit?: number): Promise<ConfirmedEvent[]>;
  /**
   * Starts an empty confirmed log after `start.floor` (a new device bootstrapping from the
   * node's snapshots): the head and the floor become `floor`, the epoch is recorded, and the
   * snapshots are kept (`readStartSnapshots`). Refused with `validation` when the stream
   * already holds confirmed events or a floor. Pending events stay.
   */
  startConfirmedAt(stream: string, start: ConfirmedStart): Promise<void>;
  /** The snapshots the log was started from (`startConfirmedAt`); `[]` for a log started at 1. */
  readStartSnapshots(stream: string): Promise<Snapshot[]>;
  /**
   * Back-fill: stores events below the floor. Events above the floor are skipped; the rest must
   * be gapless and end exactly at the floor (`protocol` error otherwise, nothing stored). The
   * floor moves down to the first event's position - 1. Pending events whose ids arrive here
   * leave the pending list, as in `applyConfirmed`.
   */
  prependConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void>;
  /** Pending events in local order. */
  readPending(stream: string): Promise<PendingEvent[]>;
  /** The commands behind pending events, by id. */
  readCommands(stream: string): Promise<PendingCommand[]>;
  /**
   * Appends local events after every pending one, with the command that made them. Events that
   * are not exact JSON (docs/architecture.md, "Exact data") are refused with `validation` and
   * the path (`events.<index>...`), storing nothing: the node would refuse or change them.
   */
  addPending(
    stream: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void>;
  /**
   * Applies node-ordered events in position order: those at or below the head are skipped, the
   * rest must continue the head without a gap (`protocol` error otherwise). An applied event
   * whose id is pending here leaves the pending list: it was ours, now confirmed (rebase).
   * A command whose events are all confirmed is forgotten.
   */
  applyConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void>;
  /**
   * Replaces a command's pending events (after deciding it again) in place, or drops them
   * when `events` is empty (the command was rejected). Checks exactness as `addPending` does.
   */
  replacePending(
    stream: string,
    commandId: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void>;
  /** Drops pending events by id (the node refused them for good). */
  dropPending(stream: string, ids: readonly string[]): Promise<void>;
  /**
   * Epoch change: forgets every confirmed event, the floor and the start snapshots, and records
   * the new epoch; pending ones stay.
   */
  resetConfirmed(stream: string, epoch: string): Promise<void>;
  /** The stream's sync metadata (`{}` before any was written). */
  readMeta(stream: string): Promise<StreamSyncMeta>;
  /** Replaces the stream's sync metadata. */
  writeMeta(stream: string, meta: StreamSyncMeta): Promise<void>;
  /** Streams that hold pending events. */
  streamsWithPending(): Promise<string[]>;
}

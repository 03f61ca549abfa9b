// The main thread's view of Chronicle: what createChronicle takes and returns.
import type {
  AppendOptions,
  AppendResult,
  CommandOf,
  ConfirmedEvent,
  Decider,
  EventInput,
  ExecuteOptions,
  Foldable,
  HistoryEntry,
  HistoryOptions,
  PointInTime,
  Projection,
  ReadStreamOptions,
  RejectedNotice,
  StateChange,
  StateOf,
  SyncStatus,
  UndoOutcome,
  UndoState,
} from "@chronicle/core";
import type {
  ExecuteResult,
  HostDiagnostics,
  HostStatus,
  RebuildProgress,
} from "../shared/host-api.ts";
import type { ChronicleProcesses } from "./processes.ts";

/** What {@link createChronicle} takes. */
export interface CreateChronicleOptions {
  /** A module worker whose module calls `hostChronicle` (or any endpoint comlink can wrap). */
  worker: Worker | MessagePort;
  /** Overrides the database name chosen in the worker module. */
  name?: string;
  /** `meta.actor` for events written from here. @default the host's actor */
  actor?: string;
  /** Ask the browser to keep this origin's storage under pressure. @default true */
  persist?: boolean;
  /** Leadership changes, a database blocked by an old tab, projection errors. */
  onStatus?: (status: HostStatus) => void;
  /**
   * Terminate the worker on close(), and when createChronicle fails (the worker is of no use
   * then). @default true
   */
  terminate?: boolean;
  /**
   * How long the worker module may take to call `hostChronicle` before createChronicle gives up
   * (rejects with `internal` and terminates the worker). It covers loading the module, not
   * opening the database, which may wait for an old tab (`blocked`). @default 10000
   */
  startTimeoutMs?: number;
}

/**
 * Undo/redo of this actor's commands on this device, by compensating events (see README: Undo
 * and redo). The stacks are shared by the device's tabs and survive reloads; they never sync.
 */
export interface ChronicleUndo {
  /** canUndo / canRedo and the labels of the next steps, as last reported by the worker. */
  readonly state: UndoState;
  /** Calls `listener` now and whenever the state changes (in this tab or another). */
  subscribe(listener: (state: UndoState) => void): () => void;
  /** Compensates the latest step against the current state: `done`, `skipped` (with a reason) or `empty`. */
  undo(): Promise<UndoOutcome>;
  /** Re-applies the latest undone step. */
  redo(): Promise<UndoOutcome>;
  /** Runs `work` with every command it executes merged into one step labelled `label`. */
  group<T>(label: string, work: () => Promise<T>): Promise<T>;
  /** Forgets both stacks. */
  clear(): Promise<void>;
}

/** A read-only view of a stream frozen at a position: render it while the live store goes on. */
export interface ChronicleView {
  /** The stream it views. */
  readonly stream: string;
  /** The last confirmed position included (0: before the first event). */
  readonly position: number;
  /** A projection's or decider's state as of this view (from the nearest snapshot below it). */
  read<State>(foldable: Foldable<State>): Promise<State>;
  /** The view's events (up to its position). */
  events(options?: { from?: number; limit?: number }): Promise<ConfirmedEvent[]>;
}

/**
 * Chronicle on the main thread: commands, synchronous projection reads and subscriptions, time
 * travel, undo and sync status, served by the worker (see {@link createChronicle}).
 */
export interface Chronicle {
  /** This installation's id. */
  readonly deviceId: string;
  /** Whether the browser granted persistent storage (false when it was not asked or refused). */
  readonly persisted: boolean;
  /** True while this tab's worker leads (owns sync and snapshotting). */
  isLeader(): boolean;
  /**
   * Runs a command through a decider registered in the worker (the decider or its name);
   * resolves once committed. `options.context` sets who and where it comes from.
   */
  execute<D extends Decider<any, any, any>>(
    stream: string,
    decider: D | string,
    command: CommandOf<D>,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult>;
  /** Appends events of registered types without a decider. */
  append(stream: string, events: EventInput[], options?: AppendOptions): Promise<AppendResult>;
  /** Reads the stream's confirmed events from the worker's store. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<ConfirmedEvent[]>;
  /**
   * The projection's state, synchronously: current while subscribed, otherwise the last state
   * this tab saw (after `execute` or `load`), or `undefined` when it has seen none. Without a
   * stream: a cross-stream projection (declared with a `prefix`) over every matching stream.
   */
  read<P extends Projection<any, any>>(projection: P, stream?: string): StateOf<P> | undefined;
  /** Loads the projection's current state from the worker (and caches it). */
  load<P extends Projection<any, any>>(projection: P, stream?: string): Promise<StateOf<P>>;
  /**
   * Calls `listener` with the state now (when known) and after every change, from this tab or
   * any other. Returns the unsubscribe function. `stream` undefined: a cross-stream projection.
   */
  subscribe<P extends Projection<any, any>>(
    projection: P,
    stream: string | undefined,
    listener: (state: StateOf<P>) => void,
  ): () => void;
  /**
   * Calls `listener` with the progress of every projection rebuild from now on (a notice:
   * earlier ones are not replayed). Rebuilds happen when a record's version changed, when the
   * app learned event types or versions a record had skipped, or on `rebuild`.
   */
  onRebuild(listener: (progress: RebuildProgress) => void): () => void;
  /**
   * Rebuilds the projection's persisted record from the first event (no stream: a cross-stream
   * projection), reporting progress to `onRebuild`; resolves with the rebuilt state.
   */
  rebuild<P extends Projection<any, any>>(projection: P, stream?: string): Promise<StateOf<P>>;
  /** Whether the worker module configured sync (commands then write pending events). */
  readonly sync: boolean;
  /** The stream's last sync status seen by this tab (undefined before the first, or without sync). */
  syncStatus(stream: string): SyncStatus | undefined;
  /**
   * Calls `listener` with the stream's sync status now (when known) and on every change, from
   * whichever tab leads. Returns the unsubscribe function.
   */
  onSyncStatus(stream: string, listener: (status: SyncStatus) => void): () => void;
  /**
   * Calls `listener` when the sync engine drops a command or events from now on (notices are
   * not replayed). Returns the unsubscribe.
   */
  onRejected(listener: (notice: RejectedNotice) => void): () => void;
  /**
   * A projection's or decider's state as it was at a confirmed position, or at a time on the
   * node's clock (`{ time }`), computed in the worker from the nearest snapshot.
   */
  stateAt<State>(foldable: Foldable<State>, stream: string, at: PointInTime): Promise<State>;
  /** A read-only view of the stream at a position or time (see ChronicleView). */
  viewAt(stream: string, at: PointInTime): Promise<ChronicleView>;
  /**
   * The stream's events as history entries (who, when, what, undoOf/redoOf); with sync, the
   * pending ones last, marked `pending` (`{ pending: false }` leaves them out).
   */
  history(stream: string, options?: HistoryOptions): Promise<HistoryEntry[]>;
  /** What changed in a projection's (or decider's) state between two confirmed positions. */
  diff<State>(
    foldable: Foldable<State>,
    stream: string,
    fromPosition: number,
    toPosition: number,
  ): Promise<StateChange[]>;
  /** Undo/redo of this actor's commands on this device: `useUndo(chronicle.undoManager)`. */
  readonly undoManager: ChronicleUndo;
  /**
   * Process instances and reactions' dead letters (see README: Processes); empty when the
   * worker declares none.
   */
  readonly processes: ChronicleProcesses;
  /** Figures about the worker (events stored, leadership). */
  diagnostics(): Promise<HostDiagnostics>;
  /**
   * Waits for the answers to commands already sent, then releases the worker, its database
   * connection, leadership and subscriptions.
   */
  close(): Promise<void>;
}

// What each hook needs, as small structural interfaces. The browser `Chronicle` fits all of them
// (the provider carries it); a hook also takes an explicit source, so core's `UndoManager`, the
// sync engine, or a test double plug in without adapters.
import type { ExecuteResult } from "@chronicle/browser";
import type {
  CommandOf,
  Decider,
  ExecuteOptions,
  HistoryEntry,
  HistoryOptions,
  Projection,
  StateOf,
  SyncStatus,
  UndoOutcome,
  UndoState,
} from "@chronicle/core";

/** Synchronous reads plus change notifications (the browser `Chronicle`). */
export interface ProjectionSource {
  /**
   * The projection's state over the stream (no stream: a cross-stream projection's),
   * synchronously; `undefined` when none is known yet.
   */
  read<P extends Projection<any, any>>(projection: P, stream?: string): StateOf<P> | undefined;
  /**
   * Calls `listener` with the state now (when known), then on every change; returns the
   * unsubscribe. `stream` is undefined for a cross-stream projection.
   */
  subscribe<P extends Projection<any, any>>(
    projection: P,
    stream: string | undefined,
    listener: (state: StateOf<P>) => void,
  ): () => void;
}

/** Runs commands (the browser `Chronicle`, the sync engine, or a wrapper of a command handler). */
export interface CommandSource<Result = ExecuteResult> {
  /** Decides `command` with `decider` on `stream` and writes the events. */
  execute<D extends Decider<any, any, any>>(
    stream: string,
    decider: D,
    command: CommandOf<D>,
    options?: ExecuteOptions,
  ): Promise<Result>;
}

/** An undo manager (the browser `Chronicle`'s `undoManager`, or core's `UndoManager`). */
export interface UndoSource {
  /** What an undo/redo UI shows now. */
  readonly state: UndoState;
  /** Calls `listener` now and after every change of the stacks; returns the unsubscribe. */
  subscribe(listener: (state: UndoState) => void): () => void;
  /** Compensates the latest step. */
  undo(): Promise<UndoOutcome>;
  /** Re-applies the latest undone step. */
  redo(): Promise<UndoOutcome>;
}

/** Per-stream sync status (the browser `Chronicle`, or the sync engine). */
export interface SyncStatusSource {
  /** The last status known, or `undefined` before the first one (or without sync). */
  syncStatus(stream: string): SyncStatus | undefined;
  /** Calls `listener` with the current status (when known), then on every change. */
  onSyncStatus(stream: string, listener: (status: SyncStatus) => void): () => void;
}

/** A stream's timeline (the browser `Chronicle`; over a core store, wrap core's `history`). */
export interface HistorySource {
  /** The stream's entries in position order (pending ones last, where the source has them). */
  history(stream: string, options?: HistoryOptions): Promise<HistoryEntry[]>;
}

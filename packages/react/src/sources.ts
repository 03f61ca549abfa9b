// What the hooks need from Chronicle, as small structural interfaces: the browser store's
// `Chronicle`, core's `UndoManager` and the sync engine all fit them without adapters.
import type { ConfirmedEvent, Projection, StateOf, UndoOutcome, UndoState } from "@chronicle/core";

/** Synchronous reads plus change notifications (the browser `Chronicle` has both). */
export interface ProjectionSource {
  read<P extends Projection<any, any>>(projection: P, stream: string): StateOf<P> | undefined;
  subscribe<P extends Projection<any, any>>(
    projection: P,
    stream: string,
    listener: (state: StateOf<P>) => void,
  ): () => void;
}

/** Runs commands (the browser `Chronicle`, or a wrapper around a command handler). */
export interface CommandSource<Result = unknown> {
  execute(stream: string, decider: any, command: any, context?: any): Promise<Result>;
}

/** An undo manager (core's `UndoManager`). */
export interface UndoSource {
  readonly state: UndoState;
  subscribe(listener: (state: UndoState) => void): () => void;
  undo(): Promise<UndoOutcome>;
  redo(): Promise<UndoOutcome>;
}

/** Per-stream sync status (the sync engine: `status` / `onStatus`). */
export interface SyncStatusSource<Status> {
  status(stream: string): Status;
  onStatus(stream: string, listener: (status: Status) => void): () => void;
}

/** Reads a stream's events (for timelines). */
export interface HistorySource {
  readStream(
    stream: string,
    options?: { from?: number; toPosition?: number; limit?: number },
  ): Promise<ConfirmedEvent[]>;
}

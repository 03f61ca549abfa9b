// What the hooks need from Chronicle, as small structural interfaces: the browser store's
// `Chronicle`, core's `UndoManager` and the sync engine all fit them without adapters.
import type {
  ConfirmedEvent,
  HistoryEntry,
  Projection,
  StateOf,
  UndoOutcome,
  UndoState,
} from "@chronicle/core";

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

/** A timeline entry; `pending` when the event is not ordered by the node yet. */
export interface TimelineEntry extends HistoryEntry {
  pending?: true;
}

/** Reads a stream's events (for timelines); `history` (with pending events) is used when present. */
export interface HistorySource {
  readStream(
    stream: string,
    options?: { from?: number; toPosition?: number; limit?: number },
  ): Promise<ConfirmedEvent[]>;
  history?(
    stream: string,
    options?: { from?: number; to?: number; limit?: number },
  ): Promise<TimelineEntry[]>;
}

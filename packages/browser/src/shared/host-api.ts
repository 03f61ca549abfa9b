// internal: not exported (its types are re-exported by both entry points). What the worker host
// offers the main thread over comlink. Everything here crosses postMessage, so it is plain data
// (structured-clonable) or a comlink-proxied callback.
import type {
  AppendOptions,
  AppendResult,
  ChronicleErrorJSON,
  ConfirmedEvent,
  EventInput,
  ExecuteOptions,
  HistoryEntry,
  HistoryOptions,
  PointInTime,
  ProjectionRecord,
  ReadStreamOptions,
  RebuildReason,
  RecordedEvent,
  RejectedNotice,
  StateChange,
  SyncStatus,
  UndoOutcome,
  UndoState,
} from "@chronicle/core";
import type { DeadLetter, ListQuery, ProcessInstance } from "@chronicle/core/process";

/** What a command did, as the main thread sees it. */
export interface ExecuteResult {
  /**
   * The events the command appended (empty when it decided nothing): with positions, or without
   * when they are pending (sync configured).
   */
  events: RecordedEvent[];
  /** The stream's (confirmed) head after the command. */
  head: number;
  /**
   * The projection records the command moved, committed in the same transaction (with sync:
   * the optimistic records, read after the commit).
   */
  projections: ProjectionRecord[];
  /** True when the events are pending: the sync node will give them positions. */
  pending?: boolean;
}

/** Names a registered projection or decider across the worker boundary. */
export interface FoldableRef {
  /** Which registry to look in. */
  kind: "projection" | "decider";
  /** The projection's or decider's name. */
  name: string;
}

/**
 * How far a projection's rebuild has come: its persisted record was not usable (its version
 * changed, the app learned event types or versions it had skipped, or the app asked) and it is
 * folded again. Reported per page of events; the last report has `done === total`.
 */
export interface RebuildProgress {
  /** The projection's name. */
  projection: string;
  /** The stream, for a projection over one stream. */
  stream?: string;
  /** The prefix, for a cross-stream projection. */
  prefix?: string;
  /** Events folded so far. */
  done: number;
  /** Events to fold. */
  total: number;
  /** Why: `version`, `learned` (see `learned`) or `requested` (`chronicle.rebuild`). */
  reason: RebuildReason;
  /** With reason `learned`: the `type@version`s the old record skipped and the app knows now. */
  learned?: string[];
}

/** Things the app may want to show: leadership, a database blocked by an old tab, errors. */
export type HostStatus =
  | {
      /** This tab's worker started or stopped leading. */
      type: "leader";
      /** Whether it leads now (owns sync and snapshotting). */
      leader: boolean;
    }
  | {
      /**
       * Another tab holds the database open at an older schema version: ask the user to close
       * it.
       */
      type: "blocked";
    }
  | {
      /** A newer version of the app wants to upgrade the database: this tab closed it; reload. */
      type: "version-change";
    }
  | {
      /** A projection's handler failed: its record stays at its checkpoint; commands go on. */
      type: "projection-error";
      /** The projection's name. */
      projection: string;
      /** The failure (a FoldError naming the event). */
      error: ChronicleErrorJSON;
    }
  | {
      /** A stream's sync status changed (reported by the leader, relayed to every tab). */
      type: "sync-status";
      /** The stream. */
      stream: string;
      /** Its new status. */
      status: SyncStatus;
    }
  | {
      /** The sync engine dropped a command or events. */
      type: "sync-rejected";
      /** What was dropped, and why. */
      notice: RejectedNotice;
    }
  | {
      /** This actor's undo/redo stacks on this device changed (in any tab). */
      type: "undo";
      /** The new undo state. */
      state: UndoState;
    }
  | {
      /** A command was run but could not be recorded for undo (its events are stored). */
      type: "undo-error";
      /** Why recording failed. */
      error: ChronicleErrorJSON;
    }
  | {
      /** The leader's process runner failed (a store error): it tries again by itself. */
      type: "process-error";
      /** What failed. */
      error: ChronicleErrorJSON;
    }
  | {
      /** A projection's persisted record is being rebuilt (see RebuildProgress). */
      type: "rebuild";
      /** How far it has come. */
      progress: RebuildProgress;
    };

/** What the host answers to `open`. */
export interface OpenInfo {
  /** The database name. */
  name: string;
  /** This installation's id (stored in the database, shared by its tabs). */
  deviceId: string;
  /** Whether this worker leads now. */
  leader: boolean;
  /** Whether a sync engine is configured (commands write pending events). */
  sync: boolean;
}

/** What a client sends to `open` the host. */
export interface OpenRequest {
  /** Overrides the database name the worker module chose. */
  name?: string | undefined;
  /** `meta.actor` for events written through this client. @default the host's actor */
  actor?: string | undefined;
  /**
   * A port for commands (see CommandRequest): `execute` without comlink's bookkeeping, and an
   * answer that can cross while the transaction commits. Transferred with `open`.
   */
  commands?: MessagePort | undefined;
}

/**
 * Receives a command's result before its transaction has finished committing (to start sending
 * it, not to show it). It may return what to run as soon as that commit is durable, which must
 * not throw (the commands port confirms the result with it, without waiting for the engine's
 * work after the commit).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing is one too
export type EarlyAnswer = (result: ExecuteResult) => (() => void) | void;

/** A command sent on the commands port. */
export interface CommandRequest {
  id: number;
  stream: string;
  decider: string;
  command: unknown;
  options?: ExecuteOptions | undefined;
}

/**
 * The answers to a command, on the commands port. A command whose transaction was committing
 * when its result was known gets `early` (the result, not to be shown yet), then `committed`
 * (show it) or another answer (forget it: a later `early` replaces it). Otherwise one `result`
 * or `error`.
 */
export type CommandReply =
  | { id: number; kind: "early"; result: ExecuteResult }
  | { id: number; kind: "committed" }
  | { id: number; kind: "result"; result: ExecuteResult }
  | { id: number; kind: "error"; error: ChronicleErrorJSON; stack?: string | undefined };

/** Figures about the worker, for diagnostics and benchmarks. */
export interface HostDiagnostics {
  /** The last commit sequence: how many confirmed events the database has stored. */
  events: number;
  /** Whether this worker leads. */
  leader: boolean;
}

/** The worker host's API (see hostChronicle). */
export interface HostApi {
  /** Answers as soon as the host is there (createChronicle's start handshake; see open-host). */
  ping(): Promise<void>;
  /**
   * Opens the engine (the database, leadership, sync) on the first call; `onStatus` hears its
   * statuses.
   */
  open(request: OpenRequest, onStatus?: (status: HostStatus) => void): Promise<OpenInfo>;
  /** Runs a command through the decider registered under that name. */
  execute(
    stream: string,
    decider: string,
    command: unknown,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult>;
  /** Appends events of registered types without a decider. */
  append(stream: string, events: EventInput[], options?: AppendOptions): Promise<AppendResult>;
  /** Reads the stream's confirmed events. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<ConfirmedEvent[]>;
  /**
   * The named projection's current record over the stream (no stream: a cross-stream
   * projection's record over every stream with its prefix).
   */
  read(projection: string, stream?: string): Promise<ProjectionRecord>;
  /**
   * Calls `onRecord` with the projection's record now and after every change; resolves with the
   * watch's id (for `unwatch`). `stream` is undefined for a cross-stream projection.
   */
  watch(
    projection: string,
    stream: string | undefined,
    onRecord: (record: ProjectionRecord) => void,
    onError?: (error: ChronicleErrorJSON) => void,
  ): Promise<number>;
  /** Stops the watch with this id. */
  unwatch(id: number): Promise<void>;
  /**
   * Rebuilds the projection's persisted record from the first event (no stream: a cross-stream
   * projection), reporting `rebuild` statuses; resolves with the new record.
   */
  rebuild(projection: string, stream?: string): Promise<ProjectionRecord>;
  /** Figures about the worker. */
  diagnostics(): Promise<HostDiagnostics>;
  /** The stream's last sync status known here (undefined without sync or before the first). */
  syncStatus(stream: string): Promise<SyncStatus | undefined>;
  /** A projection's or decider's state at a point of the stream, and the position it stands at. */
  stateAt(
    foldable: FoldableRef,
    stream: string,
    at: PointInTime,
  ): Promise<{
    /** The folded state. */
    state: unknown;
    /** The last position folded in. */
    position: number;
  }>;
  /** The last confirmed position at a point in time (see core's resolvePoint). */
  resolvePoint(stream: string, at: PointInTime): Promise<number>;
  /** The stream's events as history entries, pending ones last. */
  history(stream: string, options?: HistoryOptions): Promise<HistoryEntry[]>;
  /** What changed in a projection's (or decider's) state between two confirmed positions. */
  diff(foldable: FoldableRef, stream: string, from: number, to: number): Promise<StateChange[]>;
  /** Undoes this actor's latest step on this device. */
  undo(): Promise<UndoOutcome>;
  /** Redoes the latest undone step. */
  redo(): Promise<UndoOutcome>;
  /** The undo state now. */
  undoState(): Promise<UndoState>;
  /** Forgets both undo stacks. */
  clearUndo(): Promise<void>;
  /** Process instances (every tab reads them; the leader's worker runs them). */
  processList(query?: ListQuery): Promise<ProcessInstance[]>;
  /** One process instance. */
  processGet(process: string, id: string): Promise<ProcessInstance | undefined>;
  /** Reactions' dead letters, oldest first; one reaction's when named. */
  deadLetters(reaction?: string): Promise<DeadLetter[]>;
  /** Runs a dead letter's handler again in this worker; true when it succeeded. */
  retryDeadLetter(id: string): Promise<boolean>;
  /** Runs `work` (a proxied callback into the main thread) as one undo step. */
  undoGroup(label: string, work: () => Promise<unknown>): Promise<unknown>;
  /**
   * Closes the engine (its database, leadership and sync); commands under way are answered
   * first.
   */
  close(): Promise<void>;
}

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
  RecordedEvent,
  RejectedNotice,
  StateChange,
  SyncStatus,
  UndoOutcome,
  UndoState,
} from "@chronicle/core";

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
  kind: "projection" | "decider";
  name: string;
}

/** Things the app may want to show: leadership, a database blocked by an old tab, errors. */
export type HostStatus =
  | { type: "leader"; leader: boolean }
  /** Another tab holds the database open at an older schema version: ask the user to close it. */
  | { type: "blocked" }
  /** A newer version of the app wants to upgrade the database: this tab closed it; reload. */
  | { type: "version-change" }
  | { type: "projection-error"; projection: string; error: ChronicleErrorJSON }
  /** A stream's sync status changed (reported by the leader, relayed to every tab). */
  | { type: "sync-status"; stream: string; status: SyncStatus }
  /** The sync engine dropped a command or events (see RejectedNotice). */
  | { type: "sync-rejected"; notice: RejectedNotice }
  /** This actor's undo/redo stacks on this device changed (in any tab). */
  | { type: "undo"; state: UndoState }
  /** A command was run but could not be recorded for undo (its events are stored). */
  | { type: "undo-error"; error: ChronicleErrorJSON };

export interface OpenInfo {
  /** The database name. */
  name: string;
  /** This installation's id (stored in the database, shared by its tabs). */
  deviceId: string;
  leader: boolean;
  /** Whether a sync engine is configured (commands write pending events). */
  sync: boolean;
}

export interface OpenRequest {
  /** Overrides the database name the worker module chose. */
  name?: string | undefined;
  actor?: string | undefined;
  /**
   * A port for commands (see CommandRequest): `execute` without comlink's bookkeeping, and an
   * answer that can cross while the transaction commits. Transferred with `open`.
   */
  commands?: MessagePort | undefined;
}

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
 * (show it) or another answer (forget it). Otherwise one `result` or `error`.
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
  open(request: OpenRequest, onStatus?: (status: HostStatus) => void): Promise<OpenInfo>;
  /** Runs a command through the decider registered under that name. */
  execute(
    stream: string,
    decider: string,
    command: unknown,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult>;
  append(stream: string, events: EventInput[], options?: AppendOptions): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<ConfirmedEvent[]>;
  read(projection: string, stream: string): Promise<ProjectionRecord>;
  watch(
    projection: string,
    stream: string,
    onRecord: (record: ProjectionRecord) => void,
    onError?: (error: ChronicleErrorJSON) => void,
  ): Promise<number>;
  unwatch(id: number): Promise<void>;
  diagnostics(): Promise<HostDiagnostics>;
  /** The stream's last sync status known here (undefined without sync or before the first). */
  syncStatus(stream: string): Promise<SyncStatus | undefined>;
  stateAt(
    foldable: FoldableRef,
    stream: string,
    at: PointInTime,
  ): Promise<{ state: unknown; position: number }>;
  resolvePoint(stream: string, at: PointInTime): Promise<number>;
  history(stream: string, options?: HistoryOptions): Promise<HistoryEntry[]>;
  diff(foldable: FoldableRef, stream: string, from: number, to: number): Promise<StateChange[]>;
  undo(): Promise<UndoOutcome>;
  redo(): Promise<UndoOutcome>;
  undoState(): Promise<UndoState>;
  clearUndo(): Promise<void>;
  /** Runs `work` (a proxied callback into the main thread) as one undo step. */
  undoGroup(label: string, work: () => Promise<unknown>): Promise<unknown>;
  close(): Promise<void>;
}

// internal: not exported (its types are re-exported by both entry points). What the worker host
// offers the main thread over comlink. Everything here crosses postMessage, so it is plain data
// (structured-clonable) or a comlink-proxied callback.
import type {
  AppendOptions,
  AppendResult,
  ChronicleErrorJSON,
  CommandContext,
  ConfirmedEvent,
  EventInput,
  ProjectionRecord,
  ReadStreamOptions,
} from "@chronicle/core";

/** What a command did, as the main thread sees it. */
export interface ExecuteResult {
  /** The events the command appended, with positions (empty when it decided nothing). */
  events: ConfirmedEvent[];
  /** The stream's head after the command. */
  head: number;
  /** The projection records the command moved, committed in the same transaction. */
  projections: ProjectionRecord[];
}

/** Things the app may want to show: leadership, a database blocked by an old tab, errors. */
export type HostStatus =
  | { type: "leader"; leader: boolean }
  /** Another tab holds the database open at an older schema version: ask the user to close it. */
  | { type: "blocked" }
  /** A newer version of the app wants to upgrade the database: this tab closed it; reload. */
  | { type: "version-change" }
  | { type: "projection-error"; projection: string; error: ChronicleErrorJSON };

export interface OpenInfo {
  /** The database name. */
  name: string;
  /** This installation's id (stored in the database, shared by its tabs). */
  deviceId: string;
  leader: boolean;
}

export interface OpenRequest {
  /** Overrides the database name the worker module chose. */
  name?: string | undefined;
  actor?: string | undefined;
}

/** Figures about the worker, for diagnostics and benchmarks. */
export interface HostDiagnostics {
  /** The last commit sequence: how many confirmed events the database has stored. */
  events: number;
  /** Whether this worker leads. */
  leader: boolean;
}

/** The worker host's API (see hostChronicle). */
export interface HostApi {
  open(request: OpenRequest, onStatus?: (status: HostStatus) => void): Promise<OpenInfo>;
  execute(
    decider: string,
    stream: string,
    command: unknown,
    context?: CommandContext,
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
  close(): Promise<void>;
}

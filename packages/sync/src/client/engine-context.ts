// internal: not exported. What a StreamSession needs from its engine.
import type {
  ChronicleError,
  Decider,
  EpochResetNotice,
  LocalLog,
  RejectedNotice,
  SyncStatus,
} from "@chronicle/core";
import type { ProtocolLimits } from "../protocol/limits.ts";
import type { SnapshotWant } from "../protocol/snapshots.ts";
import type { Scheduler, SyncTransport } from "./transport.ts";

export interface EngineContext {
  readonly local: LocalLog;
  readonly transport: SyncTransport;
  readonly scheduler: Scheduler;
  readonly limits: ProtocolLimits;
  readonly backoff: { initialMs: number; maxMs: number };
  readonly requestTimeoutMs: number;
  readonly catchUpIntervalMs: number;
  readonly device: string;
  readonly actor: string;
  readonly sessionId: string;
  readonly deciders: ReadonlyMap<string, Decider>;
  /** The states a new device starts from (none: always the full replay). */
  readonly bootstrap: readonly SnapshotWant[];
  /** When the older history is back-filled on a device started from snapshots. */
  readonly backfill: "background" | "on-demand";
  readonly online: boolean;
  confirmedState(stream: string, decider: Decider): Promise<{ state: unknown; position: number }>;
  confirmedReset(stream: string): void;
  emitStatus(stream: string, status: SyncStatus): void;
  emitChange(stream: string): void;
  emitRejected(notice: RejectedNotice): void;
  emitEpochReset(notice: EpochResetNotice): void;
  reportError(stream: string, error: ChronicleError): void;
}

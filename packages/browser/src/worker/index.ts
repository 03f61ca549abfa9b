// @chronicle/browser/worker: the worker side. A worker module calls `hostChronicle` with the
// app's events, deciders and projections; the main thread connects with `createChronicle`.
// The local log in IndexedDB (Dexie) is here too, for hosts and stores built on it.

export type {
  EarlyAnswer,
  ExecuteResult,
  FoldableRef,
  HostApi,
  HostDiagnostics,
  HostStatus,
  OpenInfo,
  OpenRequest,
  RebuildProgress,
} from "../shared/host-api.ts";
export { DexieLocalLog } from "../store/dexie-local-log.ts";
export { DexieProcessStore, type DexieProcessStoreOptions } from "../store/dexie-process-store.ts";
export { DexieEventStore } from "../store/dexie-store.ts";
export type { LogTail, StreamPosition } from "../store/log-queries.ts";
export { type OpenDatabaseOptions, openDatabase } from "../store/open-database.ts";
export {
  ChronicleDb,
  type DeadLetterRow,
  type EventRow,
  type MetaRow,
  type PendingCommandRow,
  type PendingRow,
  type StampRow,
  type StreamSyncState,
  schemaVersions,
} from "../store/schema.ts";
export { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
export { isQuotaError } from "../store/storage-errors.ts";
export type {
  AppendHook,
  DexieEventStoreOptions,
  WriteOptions,
  WriteResult,
} from "../store/store-types.ts";
export { SyncTables } from "../store/sync-tables.ts";
export type { ChronicleEngine } from "./engine.ts";
export type { EngineOptions, UndoOptions } from "./engine-options.ts";
export { createHostApi, type HostChronicleOptions, hostChronicle } from "./host.ts";
export { openEngine } from "./open-engine.ts";

// @chronicle/browser/worker: the worker side. A worker module calls `hostChronicle` with the
// app's events, deciders and projections; the main thread connects with `createChronicle`.

export type {
  ExecuteOptions,
  ExecuteResult,
  HostApi,
  HostDiagnostics,
  HostStatus,
  OpenInfo,
  RejectedInfo,
  SyncStatusInfo,
  TimelineEntry,
  TimelineOptions,
} from "../shared/host-api.ts";
export { DexieLocalLog } from "../store/dexie-local-log.ts";
export { DexieEventStore } from "../store/dexie-store.ts";
export { ChronicleDb, type PendingCommand, type PendingRow } from "../store/schema.ts";
export { DexieProjectionStateStore, DexieSnapshotStore } from "../store/state-stores.ts";
export type { DexieEventStoreOptions, WriteOptions, WriteResult } from "../store/store-types.ts";
export { SyncTables } from "../store/sync-tables.ts";
export { ChronicleEngine } from "./engine.ts";
export { createHostApi, type HostChronicleOptions, hostChronicle } from "./host.ts";
export { type EngineOptions, openEngine, type UndoOptions } from "./open-engine.ts";
export type { SyncContext, SyncHandle, SyncStarter } from "./sync-seam.ts";

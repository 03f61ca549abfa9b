// @chronicle/browser (main thread): connect to the Chronicle worker, read projections
// synchronously, subscribe to their changes. The worker side is "@chronicle/browser/worker".
export {
  type Chronicle,
  type ChronicleUndo,
  type ChronicleView,
  type CreateChronicleOptions,
  createChronicle,
} from "./main/create-chronicle.ts";
export { bindTextDoc, type TextDocBinding, type TextDocOptions } from "./main/text-doc.ts";
export type {
  ExecuteOptions,
  ExecuteResult,
  FoldableRef,
  HostApi,
  HostDiagnostics,
  HostStatus,
  OpenInfo,
  OpenRequest,
  RejectedInfo,
  SyncStatusInfo,
  TimelineEntry,
  TimelineOptions,
} from "./shared/host-api.ts";
export { DexieLocalLog } from "./store/dexie-local-log.ts";
export { DexieEventStore } from "./store/dexie-store.ts";
export type { LogTail, StreamPosition } from "./store/log-queries.ts";
export { type OpenDatabaseOptions, openDatabase } from "./store/open-database.ts";
export {
  ChronicleDb,
  type EventRow,
  type MetaRow,
  type PendingCommand,
  type PendingRow,
  type StreamSyncState,
  schemaVersions,
} from "./store/schema.ts";
export { DexieProjectionStateStore, DexieSnapshotStore } from "./store/state-stores.ts";
export { isQuotaError } from "./store/storage-errors.ts";
export type {
  AppendHook,
  DexieEventStoreOptions,
  WriteOptions,
  WriteResult,
} from "./store/store-types.ts";
export { SyncTables } from "./store/sync-tables.ts";

// @chronicle/browser (main thread): connect to the Chronicle worker, read projections
// synchronously, subscribe to their changes. The worker side (hostChronicle, the Dexie store) is
// "@chronicle/browser/worker"; the types shared with other hosts (ExecuteOptions, HistoryEntry,
// SyncStatus, RejectedNotice, ...) are @chronicle/core's.
export type {
  Chronicle,
  ChronicleUndo,
  ChronicleView,
  CreateChronicleOptions,
} from "./main/chronicle-types.ts";
export { createChronicle } from "./main/create-chronicle.ts";
export type { ChronicleProcesses } from "./main/processes.ts";
export { bindTextDoc, type TextDocBinding, type TextDocOptions } from "./main/text-doc.ts";
export type {
  ExecuteResult,
  HostDiagnostics,
  HostStatus,
  RebuildProgress,
} from "./shared/host-api.ts";

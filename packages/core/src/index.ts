// @chronicle/core: the runtime-free engine. No DOM, IndexedDB, Node or Workers APIs here.
// Helpers for store authors are the `@chronicle/core/store` entry point.

export {
  type CommandContext,
  type CommandHandler,
  type CommandHandlerOptions,
  type CommandResult,
  createCommandHandler,
} from "./decider/command-handler.ts";
export {
  type CommandOf,
  type Decider,
  type DeciderSpec,
  defineDecider,
  type StateOf,
} from "./decider/define-decider.ts";
export type { ExecuteOptions } from "./decider/execute-options.ts";
export {
  ChronicleError,
  type ChronicleErrorJSON,
  type ChronicleErrorOptions,
  type ErrorCode,
  errorCodes,
  isChronicleError,
  isErrorCode,
  toChronicleError,
} from "./errors.ts";
export {
  type AnyEventDefinition,
  defineEvent,
  type EventData,
  type EventDefinition,
  type EventDefinitionSpec,
  type EventInput,
  type EventInputOf,
  type EventOf,
  type Inverter,
  type UndoSkip,
  type Upcaster,
} from "./events/define-event.ts";
export {
  assertStreamId,
  type ConfirmedEvent,
  causedBy,
  createEnvelope,
  type EventContext,
  type EventMeta,
  isStreamId,
  type RecordedEvent,
  streamIdPattern,
} from "./events/envelope.ts";
export {
  assertExactJson,
  findInexactJson,
  type InexactJson,
  type JsonTextScan,
  MAX_JSON_DEPTH,
  scanJsonText,
} from "./events/exact-json.ts";
export {
  createEventRegistry,
  type EventRegistry,
  type VersionedEventInput,
} from "./events/registry.ts";
export { type Foldable, FoldError, foldEvents, initialStateOf } from "./fold/foldable.ts";
export {
  type LoadedState,
  type LoadStateOptions,
  loadState,
  type PointInTime,
  resolvePoint,
  stateAt,
} from "./fold/load-state.ts";
export type { SkippedEvents } from "./fold/skipped-events.ts";
export { isUuid, uuidv7, uuidv7Time } from "./ids.ts";
export {
  historyIncomplete,
  historyIncompleteReason,
  isHistoryIncomplete,
} from "./local/history-incomplete.ts";
export type {
  ConfirmedStart,
  LocalLog,
  PendingCommand,
  PendingEvent,
  StreamSyncMeta,
} from "./local/local-log.ts";
export { MemoryLocalLog } from "./local/memory-local-log.ts";
export type {
  EpochResetNotice,
  RejectedNotice,
  SyncContext,
  SyncHandle,
  SyncStarter,
  SyncStatus,
} from "./local/sync-types.ts";
export {
  defineProjection,
  type Projection,
  type ProjectionHandlers,
  type ProjectionSpec,
} from "./projection/define-projection.ts";
export {
  createProjectionRunner,
  type ProjectionProgress,
  type ProjectionRunner,
  type ProjectionRunnerOptions,
  type ProjectionSource,
  type RebuildReason,
} from "./projection/projection-runner.ts";
export {
  MemoryProjectionStateStore,
  type ProjectionRecord,
  type ProjectionStateStore,
} from "./projection/projection-state-store.ts";
export {
  MemorySnapshotStore,
  type MemorySnapshotStoreOptions,
  type Snapshot,
  type SnapshotLoadOptions,
  type SnapshotStore,
} from "./snapshot/snapshot-store.ts";
export { MemoryEventStore, type MemoryEventStoreOptions } from "./store/memory-store.ts";
export type {
  AppendedEvent,
  AppendOptions,
  AppendResult,
  EventHandler,
  EventStore,
  ExpectedVersion,
  LoggedEvent,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
} from "./store/types.ts";
export {
  diff,
  diffValues,
  type HistoryEntry,
  type HistoryOptions,
  history,
  type StateChange,
  toHistoryEntry,
} from "./time-travel/history.ts";
export { type StreamView, viewAt } from "./time-travel/view-at.ts";
export { createStoreUndoHost, type UndoHost } from "./undo/undo-host.ts";
export {
  createUndoManager,
  type RecordOptions,
  type SkippedPart,
  type UndoManager,
  type UndoManagerOptions,
  type UndoOutcome,
  type UndoState,
} from "./undo/undo-manager.ts";
export {
  MemoryUndoStorage,
  type UndoPart,
  type UndoStacks,
  type UndoStep,
  type UndoStorage,
} from "./undo/undo-storage.ts";

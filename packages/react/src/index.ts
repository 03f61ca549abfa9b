// @chronicle/react: hooks for React apps on Chronicle.
export { ChronicleProvider, type ChronicleProviderProps, useChronicle } from "./context.tsx";
export type {
  CommandSource,
  HistorySource,
  ProjectionSource,
  SyncStatusSource,
  UndoSource,
} from "./sources.ts";
export { type CommandState, useCommand } from "./use-command.ts";
export { type UseHistoryOptions, useHistory } from "./use-history.ts";
export { useProjection } from "./use-projection.ts";
export { useSyncStatus } from "./use-sync-status.ts";
export { type UndoControls, useUndo } from "./use-undo.ts";

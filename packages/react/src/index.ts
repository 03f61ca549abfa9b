// @chronicle/react: hooks for React apps on Chronicle.
export { type ChronicleLike, ChronicleProvider, useChronicle } from "./context.tsx";
export {
  type CommandState,
  type UndoControls,
  useCommand,
  useHistory,
  useProjection,
  useSyncStatus,
  useUndo,
} from "./hooks.ts";
export type {
  CommandSource,
  HistorySource,
  ProjectionSource,
  SyncStatusSource,
  TimelineEntry,
  UndoSource,
} from "./sources.ts";

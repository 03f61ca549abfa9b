import type { UndoOutcome, UndoState } from "@chronicle/core";
import { useCallback, useMemo, useSyncExternalStore } from "react";
import { useSource } from "./context.tsx";
import type { UndoSource } from "./sources.ts";
import { useStableSnapshot } from "./stable-snapshot.ts";

/** What {@link useUndo} returns: the undo state and the two actions. */
export interface UndoControls extends UndoState {
  /** Compensates the latest step: `done`, `skipped` (with the reason) or `empty`. */
  undo: () => Promise<UndoOutcome>;
  /** Re-applies the latest undone step. */
  redo: () => Promise<UndoOutcome>;
}

/**
 * canUndo / canRedo, the next steps' labels, and the actions. `source` defaults to the
 * provider's `chronicle.undoManager` (this user's changes on this device).
 *
 * @example
 * const { canUndo, undoLabel, undo } = useUndo();
 * <button disabled={!canUndo} onClick={() => void undo()}>Undo {undoLabel}</button>;
 */
export function useUndo(source?: UndoSource): UndoControls {
  const manager = useSource("useUndo", source, (chronicle) => chronicle.undoManager);
  const subscribe = useCallback(
    (onChange: () => void) => manager.subscribe(() => onChange()),
    [manager],
  );
  const read = useStableSnapshot(useCallback(() => manager.state, [manager]));
  const state = useSyncExternalStore(subscribe, read, read);
  const undo = useCallback(() => manager.undo(), [manager]);
  const redo = useCallback(() => manager.redo(), [manager]);
  return useMemo(() => ({ ...state, undo, redo }), [state, undo, redo]);
}

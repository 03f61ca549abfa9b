import { createContext, type ReactNode, useContext } from "react";
import type { CommandSource, HistorySource, ProjectionSource, UndoSource } from "./sources.ts";

/** What most apps pass: the browser `Chronicle` (reads, subscriptions, commands, history, undo). */
export type ChronicleLike = ProjectionSource &
  CommandSource &
  HistorySource & { readonly undoManager?: UndoSource };

const ChronicleContext = createContext<ChronicleLike | undefined>(undefined);

/**
 * Makes a Chronicle available to the hooks below it.
 *
 * @example
 * root.render(<ChronicleProvider chronicle={chronicle}><Board /></ChronicleProvider>);
 */
export function ChronicleProvider(props: { chronicle: ChronicleLike; children?: ReactNode }) {
  return (
    <ChronicleContext.Provider value={props.chronicle}>{props.children}</ChronicleContext.Provider>
  );
}

/** The Chronicle of the nearest provider; throws a clear error outside one. */
export function useChronicle(): ChronicleLike {
  const chronicle = useContext(ChronicleContext);
  if (!chronicle)
    throw new Error("useChronicle: wrap your components in <ChronicleProvider chronicle={...}>");
  return chronicle;
}

/** internal: the provider's Chronicle or undefined (hooks may be given an explicit source). */
export function useOptionalChronicle(): ChronicleLike | undefined {
  return useContext(ChronicleContext);
}

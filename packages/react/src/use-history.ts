import type { HistoryEntry, HistoryOptions } from "@chronicle/core";
import { useEffect, useState } from "react";
import { useSource } from "./context.tsx";
import type { HistorySource } from "./sources.ts";

/** Which entries {@link useHistory} loads, when it loads them again, and from where. */
export interface UseHistoryOptions extends HistoryOptions {
  /**
   * Loads again whenever this changes (by identity): pass the projection's state, or anything
   * that changes with the stream, so new events show up.
   */
  version?: unknown;
  /** Where the entries come from. @default the provider's Chronicle */
  source?: HistorySource;
}

/**
 * The stream's events as history entries (who did what, when; undo/redo marks). From the
 * browser Chronicle with sync, the pending events come last, marked `pending`. An empty list
 * until the first load.
 *
 * @example
 * const board = useProjection(boardView, "board:1");
 * const entries = useHistory("board:1", { version: board });
 * entries.map((e) => <li key={e.id}>{e.type} by {e.actor}{e.pending && " (pending)"}</li>);
 */
export function useHistory(stream: string, options: UseHistoryOptions = {}): HistoryEntry[] {
  const source = useSource("useHistory", options.source, (chronicle) => chronicle);
  const [entries, setEntries] = useState<HistoryEntry[]>([]);
  const { from, to, limit, pending, version } = options;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the app's "something changed" signal
  useEffect(() => {
    let current = true;
    const range: HistoryOptions = {
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(limit === undefined ? {} : { limit }),
      ...(pending === undefined ? {} : { pending }),
    };
    void source.history(stream, range).then((loaded) => {
      if (current) setEntries(loaded);
    });
    return () => {
      current = false;
    };
  }, [source, stream, from, to, limit, pending, version]);
  return entries;
}

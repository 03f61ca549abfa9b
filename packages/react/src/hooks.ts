import {
  type ChronicleErrorJSON,
  type Projection,
  type StateOf,
  toChronicleError,
  toHistoryEntry,
  type UndoOutcome,
  type UndoState,
} from "@chronicle/core";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { useOptionalChronicle } from "./context.tsx";
import type {
  CommandSource,
  HistorySource,
  ProjectionSource,
  SyncStatusSource,
  TimelineEntry,
  UndoSource,
} from "./sources.ts";

/**
 * A projection's state for a stream, re-rendering on every change (from this tab or another).
 * `undefined` until the first state is known.
 *
 * @example
 * const board = useProjection(boardView, "board:1");
 */
export function useProjection<P extends Projection<any, any>>(
  projection: P,
  stream: string,
  source?: ProjectionSource,
): StateOf<P> | undefined {
  const fromContext = useOptionalChronicle();
  const chronicle = source ?? fromContext;
  if (!chronicle)
    throw new Error("useProjection: no source given and no <ChronicleProvider> above");
  const subscribe = useCallback(
    (onChange: () => void) => chronicle.subscribe(projection, stream, () => onChange()),
    [chronicle, projection, stream],
  );
  const read = useCallback(
    () => chronicle.read(projection, stream),
    [chronicle, projection, stream],
  );
  return useSyncExternalStore(subscribe, read, read);
}

export interface CommandState<Result> {
  /** Runs the command; resolves with its result, or `undefined` when it was refused. */
  execute: (stream: string, command: unknown) => Promise<Result | undefined>;
  /** True while a command of this hook runs. */
  running: boolean;
  /** The last refusal (a ChronicleError as JSON: `code`, `message`), cleared on the next run. */
  error: ChronicleErrorJSON | undefined;
}

/**
 * Runs commands of one decider, tracking whether one is running and the last refusal, so a
 * form can show "Title must not be empty" without try/catch.
 *
 * @example
 * const addCard = useCommand(board);
 * <button disabled={addCard.running} onClick={() => addCard.execute("board:1", { type: "addCard", title })}>Add</button>
 * {addCard.error && <p role="alert">{addCard.error.message}</p>}
 */
export function useCommand<Result = unknown>(
  decider: unknown,
  source?: CommandSource<Result>,
): CommandState<Result> {
  const fromContext = useOptionalChronicle();
  const chronicle = (source ?? fromContext) as CommandSource<Result> | undefined;
  if (!chronicle) throw new Error("useCommand: no source given and no <ChronicleProvider> above");
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ChronicleErrorJSON | undefined>(undefined);
  const mounted = useMounted();
  const execute = useCallback(
    async (stream: string, command: unknown) => {
      setRunning(true);
      setError(undefined);
      try {
        return await chronicle.execute(stream, decider, command);
      } catch (thrown) {
        if (mounted.current) setError(toChronicleError(thrown).toJSON());
        return undefined;
      } finally {
        if (mounted.current) setRunning(false);
      }
    },
    [chronicle, decider, mounted],
  );
  return { execute, running, error };
}

export interface UndoControls extends UndoState {
  undo: () => Promise<UndoOutcome>;
  redo: () => Promise<UndoOutcome>;
}

/**
 * canUndo/canRedo, the next steps' labels, and the actions, from an undo manager.
 *
 * @example
 * const { canUndo, undoLabel, undo } = useUndo(); // the provider's chronicle.undoManager
 * <button disabled={!canUndo} onClick={undo}>Undo {undoLabel}</button>
 */
export function useUndo(source?: UndoSource): UndoControls {
  const fromContext = useOptionalChronicle()?.undoManager;
  const manager = source ?? fromContext;
  if (!manager) {
    throw new Error("useUndo: no undo manager given and no <ChronicleProvider> (with one) above");
  }
  const subscribe = useCallback(
    (onChange: () => void) => manager.subscribe(() => onChange()),
    [manager],
  );
  const read = useShallowStable(useCallback(() => manager.state, [manager]));
  const state = useSyncExternalStore(subscribe, read, read);
  const undo = useCallback(() => manager.undo(), [manager]);
  const redo = useCallback(() => manager.redo(), [manager]);
  return useMemo(() => ({ ...state, undo, redo }), [state, undo, redo]);
}

/**
 * A stream's sync status (offline / connecting / syncing / synced / error, pending count).
 *
 * @example
 * const status = useSyncStatus(engine, "board:1");
 * <span className={status.state}>{status.state} ({status.pending} pending)</span>
 */
export function useSyncStatus<Status>(source: SyncStatusSource<Status>, stream: string): Status {
  const subscribe = useCallback(
    (onChange: () => void) => source.onStatus(stream, () => onChange()),
    [source, stream],
  );
  const read = useShallowStable(useCallback(() => source.status(stream), [source, stream]));
  return useSyncExternalStore(subscribe, read, read);
}

/**
 * The stream's events as timeline entries (who, when, what), loaded again whenever `version`
 * changes (pass the projection state or the confirmed head so new events show up). A source
 * with `history` (the browser Chronicle) also lists pending events, last, marked `pending`.
 *
 * @example
 * const board = useProjection(boardView, "board:1");
 * const timeline = useHistory("board:1", { version: board });
 */
export function useHistory(
  stream: string,
  options: {
    from?: number;
    to?: number;
    limit?: number;
    version?: unknown;
    source?: HistorySource;
  } = {},
): TimelineEntry[] {
  const fromContext = useOptionalChronicle();
  const source = options.source ?? fromContext;
  if (!source) throw new Error("useHistory: no source given and no <ChronicleProvider> above");
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const { from, to, limit, version } = options;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the app's "something changed" signal
  useEffect(() => {
    let current = true;
    const range = {
      ...(from === undefined ? {} : { from }),
      ...(limit === undefined ? {} : { limit }),
    };
    const loading = source.history
      ? source.history(stream, { ...range, ...(to === undefined ? {} : { to }) })
      : source
          .readStream(stream, { ...range, ...(to === undefined ? {} : { toPosition: to }) })
          .then((events) => events.map(toHistoryEntry));
    void loading.then((loaded) => {
      if (current) setEntries(loaded);
    });
    return () => {
      current = false;
    };
  }, [source, stream, from, to, limit, version]);
  return entries;
}

/**
 * Sources may build a new object on every read; useSyncExternalStore needs the same object
 * while nothing changed, so keep the previous one when it is shallowly equal.
 */
function useShallowStable<T>(read: () => T): () => T {
  const last = useRef<T | undefined>(undefined);
  return useCallback(() => {
    const next = read();
    if (last.current === undefined || !shallowEqual(last.current, next)) last.current = next;
    return last.current as T;
  }, [read]);
}

function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) =>
    Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

function useMounted() {
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return mounted;
}

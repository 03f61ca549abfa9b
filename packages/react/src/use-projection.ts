import type { Projection, StateOf } from "@chronicle/core";
import { useCallback, useSyncExternalStore } from "react";
import { useSource } from "./context.tsx";
import type { ProjectionSource } from "./sources.ts";

/**
 * A projection's state for a stream, re-rendering on every change (from this tab or another).
 * `undefined` until the first state is known. `source` defaults to the provider's Chronicle.
 * Without a stream (`undefined`): a cross-stream projection (declared with a `prefix`) over
 * every matching stream.
 *
 * @example
 * const board = useProjection(boardView, "board:1");
 * const boards = useProjection(boardList); // declared with prefix: "board:"
 * if (!board) return <p>Loading…</p>;
 */
export function useProjection<P extends Projection<any, any>>(
  projection: P,
  stream?: string,
  source?: ProjectionSource,
): StateOf<P> | undefined {
  const chronicle = useSource("useProjection", source, (provided) => provided);
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

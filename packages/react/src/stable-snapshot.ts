// internal: not exported. useSyncExternalStore needs the same object from every read while
// nothing changed, and sources may build a new status object on each call.
import { useCallback, useRef } from "react";

/** Wraps `read` so that a value equal to the previous one (deeply, JSON-like) is that one. */
export function useStableSnapshot<T>(read: () => T): () => T {
  const last = useRef<{ value: T } | undefined>(undefined);
  return useCallback(() => {
    const next = read();
    if (!last.current || !sameValue(last.current.value, next)) last.current = { value: next };
    return last.current.value;
  }, [read]);
}

/** Equality of JSON-like values (statuses, undo states): plain objects and arrays by content. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (key) =>
      Object.hasOwn(b, key) &&
      sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

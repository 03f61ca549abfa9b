// internal: not exported. Turns what IndexedDB and Dexie throw into coded ChronicleErrors.
import { ChronicleError, isChronicleError } from "@chronicle/core";

/** The DOMException / Dexie error names that mean "the origin is out of storage". */
const quotaNames = new Set(["QuotaExceededError", "QuotaExceeded"]);

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current = error;
  // Dexie wraps the browser's error in `inner`; ES2022 errors use `cause`.
  while (typeof current === "object" && current !== null && chain.length < 8) {
    chain.push(current);
    const next = (current as { inner?: unknown }).inner ?? (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}

function nameOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null
    ? String((error as { name?: unknown }).name)
    : undefined;
}

/** True when IndexedDB refused a write because a key already exists (Dexie: BulkError). */
export function isKeyConflict(error: unknown): boolean {
  return causeChain(error).some((entry) => {
    const name = nameOf(entry);
    if (name === "ConstraintError") return true;
    const failures = (entry as { failures?: unknown[] }).failures;
    return name === "BulkError" && Array.isArray(failures) && failures.some(isKeyConflict);
  });
}

/**
 * True when the error, or one it wraps, is a storage quota failure.
 *
 * @example
 * catch (error) { if (isQuotaError(error)) showStorageFullBanner(); else throw error; }
 */
export function isQuotaError(error: unknown): boolean {
  return causeChain(error).some((entry) => quotaNames.has(nameOf(entry) ?? ""));
}

/**
 * Maps a storage failure to a ChronicleError: `quota` when the origin is out of space (the
 * transaction was aborted, so nothing of it is stored), `validation` for a value IndexedDB
 * cannot clone, `internal` otherwise. Chronicle errors pass through unchanged.
 */
export function toStorageError(error: unknown, action: string): ChronicleError {
  const chain = causeChain(error);
  const coded = chain.find((entry) => isChronicleError(entry));
  if (coded) return coded as ChronicleError;
  if (isQuotaError(error)) {
    return new ChronicleError(
      "quota",
      `${action}: the browser's storage quota is exhausted; nothing was written`,
      { cause: error },
    );
  }
  if (chain.some((entry) => nameOf(entry) === "DataCloneError")) {
    return new ChronicleError("validation", `${action}: a value cannot be stored (not cloneable)`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ChronicleError("internal", `${action}: ${message}`, {
    cause: error,
    details: { name: nameOf(error) },
  });
}

/**
 * Promise.all for requests of one transaction. When one fails, the transaction aborts and the
 * others fail too ("transaction was aborted"); only the first failure matters, and the others
 * must not surface as unhandled rejections.
 */
export function allRequests<const T extends readonly unknown[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  for (const promise of promises) {
    if (promise instanceof Promise || (promise as PromiseLike<unknown> | null)?.then) {
      Promise.resolve(promise).catch(() => {});
    }
  }
  return Promise.all(promises);
}

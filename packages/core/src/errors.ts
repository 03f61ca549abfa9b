/** Every error code Chronicle uses, on the client, over comlink and on the wire. */
export const errorCodes = [
  "validation",
  "concurrency",
  "conflict",
  "id-conflict",
  "not-found",
  "unauthorized",
  "forbidden",
  "too-large",
  "rate-limited",
  "quota",
  "offline",
  "protocol",
  "internal",
] as const;

/** One of {@link errorCodes}: what a failure is, for code to branch on. */
export type ErrorCode = (typeof errorCodes)[number];

/** The JSON form of a ChronicleError: what crosses comlink and the wire. */
export interface ChronicleErrorJSON {
  /** What kind of failure (see {@link errorCodes}). */
  code: ErrorCode;
  /** For people, not for code: branch on `code`. */
  message: string;
  /** Machine-readable facts about the failure; left out when there are none. */
  details?: Record<string, unknown>;
}

/** The optional parts of a {@link ChronicleError}. */
export interface ChronicleErrorOptions {
  /** The error that led to this one (ES2022 `cause`); it does not cross comlink or the wire. */
  cause?: unknown;
  /** Machine-readable facts about the failure (the field that failed, the head, ...). */
  details?: Record<string, unknown>;
}

/**
 * The one error type of Chronicle. Check it by `code` (see {@link isChronicleError}), not with
 * `instanceof`: errors that crossed a worker boundary or the network are rebuilt from JSON.
 *
 * @example
 * throw new ChronicleError("validation", "title must not be empty", { details: { path: "title" } });
 */
export class ChronicleError extends Error {
  /** Always `"ChronicleError"` (a subclass may name itself). */
  override readonly name = "ChronicleError";
  /** What kind of failure: the field to branch on. */
  readonly code: ErrorCode;
  /** Machine-readable facts about the failure; `{}` when there are none. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ChronicleErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The JSON form (code, message, details when there are any); the `cause` is left out. */
  toJSON(): ChronicleErrorJSON {
    const json: ChronicleErrorJSON = { code: this.code, message: this.message };
    if (Object.keys(this.details).length > 0) json.details = this.details;
    return json;
  }

  /** Rebuilds an error from its JSON form; an unknown code becomes `internal`. */
  static fromJSON(json: unknown): ChronicleError {
    if (typeof json !== "object" || json === null) {
      return new ChronicleError("internal", `malformed error: ${String(json)}`);
    }
    const { code, message, details } = json as Partial<ChronicleErrorJSON>;
    const known = isErrorCode(code);
    const options: ChronicleErrorOptions = {};
    if (typeof details === "object" && details !== null) options.details = details;
    if (!known && code !== undefined) options.details = { ...options.details, originalCode: code };
    return new ChronicleError(
      known ? code : "internal",
      typeof message === "string" ? message : "unknown error",
      options,
    );
  }
}

/**
 * True when `value` is one of the {@link errorCodes}.
 *
 * @example
 * const code = isErrorCode(body.code) ? body.code : "internal";
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (errorCodes as readonly string[]).includes(value);
}

/**
 * True when `error` is a Chronicle error (by shape, so it also matches errors rebuilt after
 * crossing comlink), optionally with the given code.
 *
 * @example
 * try { await chronicle.execute(stream, decider, command) } catch (e) { if (isChronicleError(e, "concurrency")) retry() }
 */
export function isChronicleError(error: unknown, code?: ErrorCode): error is ChronicleError {
  if (typeof error !== "object" || error === null) return false;
  const candidate = (error as { code?: unknown }).code;
  if (!isErrorCode(candidate)) return false;
  return code === undefined || candidate === code;
}

/**
 * Wraps anything thrown into a ChronicleError, keeping Chronicle errors as they are.
 *
 * @example
 * catch (error) { report(toChronicleError(error).toJSON()) }
 */
export function toChronicleError(error: unknown, fallback: ErrorCode = "internal"): ChronicleError {
  if (error instanceof ChronicleError) return error;
  if (isChronicleError(error)) return ChronicleError.fromJSON(error);
  const message = error instanceof Error ? error.message : String(error);
  return new ChronicleError(fallback, message, { cause: error });
}

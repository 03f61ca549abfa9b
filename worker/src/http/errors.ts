// internal: not exported. The one place error codes become HTTP statuses (docs/architecture.md,
// "HTTP errors"); bodies are `{ code, message, ...details }`.
import {
  ChronicleError,
  type ErrorCode,
  isChronicleError,
  toChronicleError,
} from "@chronicle/core";

export const statusByCode: Record<ErrorCode, number> = {
  validation: 400,
  protocol: 400,
  unauthorized: 401,
  forbidden: 403,
  "not-found": 404,
  conflict: 409,
  concurrency: 409,
  "too-large": 413,
  "rate-limited": 429,
  quota: 429,
  internal: 500,
  offline: 503,
};

/**
 * The error a client may see: coded errors as they are; anything unexpected (a bug, a storage
 * failure) becomes `internal` with a generic message, logged here rather than leaked.
 */
export function toPublicError(error: unknown): ChronicleError {
  if (isChronicleError(error)) return toChronicleError(error);
  console.error("chronicle sync node: unexpected error", error);
  return new ChronicleError("internal", "internal error");
}

export function errorResponse(error: unknown): Response {
  const coded = toPublicError(error);
  const body = { ...coded.details, code: coded.code, message: coded.message };
  return Response.json(body, { status: statusByCode[coded.code] });
}

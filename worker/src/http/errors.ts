// internal: not exported. The one place error codes become HTTP statuses (docs/architecture.md,
// "HTTP errors"); bodies are `{ code, message, ...details }`. Messages and details that echo a
// client's input are cut short, so an error never carries a client's megabyte back.
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
  "id-conflict": 409,
  concurrency: 409,
  "too-large": 413,
  "rate-limited": 429,
  quota: 429,
  internal: 500,
  offline: 503,
};

const MAX_MESSAGE = 1024;
const MAX_DETAIL = 512;

function clampDetails(details: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === "string") kept[key] = value.slice(0, MAX_DETAIL);
    else if (typeof value === "number" || typeof value === "boolean" || value === null) {
      kept[key] = value;
    } else if (JSON.stringify(value)?.length <= MAX_DETAIL) kept[key] = value;
  }
  return kept;
}

/**
 * The error a client may see: coded errors as they are (message and details cut to a bounded
 * size); anything unexpected (a bug, a storage failure) becomes `internal` with a generic
 * message, logged here rather than leaked. An `internal` ChronicleError is a configuration
 * mistake of the node's operator (a short secret, no issuer): its message is logged and sent.
 */
export function toPublicError(error: unknown): ChronicleError {
  if (!isChronicleError(error)) {
    console.error("chronicle sync node: unexpected error", error);
    return new ChronicleError("internal", "internal error");
  }
  const coded = toChronicleError(error);
  if (coded.code === "internal") console.error("chronicle sync node:", coded.message, coded.cause);
  const message =
    coded.message.length > MAX_MESSAGE ? `${coded.message.slice(0, MAX_MESSAGE)}…` : coded.message;
  return new ChronicleError(coded.code, message, { details: clampDetails(coded.details) });
}

/** Seconds a client should wait, from a `rate-limited` error's details. */
export function retryAfterOf(error: ChronicleError): number | undefined {
  const value = error.details.retryAfter;
  return typeof value === "number" && value > 0 ? value : undefined;
}

export function errorResponse(error: unknown): Response {
  const coded = toPublicError(error);
  const body = { ...coded.details, code: coded.code, message: coded.message };
  const headers = new Headers();
  const retryAfter = retryAfterOf(coded);
  if (retryAfter !== undefined) headers.set("Retry-After", String(Math.ceil(retryAfter)));
  return Response.json(body, { status: statusByCode[coded.code], headers });
}

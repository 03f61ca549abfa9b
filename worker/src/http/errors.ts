// internal: not exported. The one place error codes become HTTP statuses (DESIGN.md "HTTP
// errors"); bodies are `{ code, message, ...details }`.
import { type ChronicleError, type ErrorCode, toChronicleError } from "@chronicle/core";

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

export function errorResponse(error: unknown): Response {
  const coded: ChronicleError = toChronicleError(error);
  // Internal errors do not leak details (stack traces, SQL) to clients.
  const body =
    coded.code === "internal"
      ? { code: coded.code, message: coded.message }
      : { ...coded.details, code: coded.code, message: coded.message };
  return Response.json(body, { status: statusByCode[coded.code] });
}

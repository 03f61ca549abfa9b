// internal: not exported (the TokenSource type is). How transports get a token for a connection
// or request, and how they say that getting one failed:
// 1. A token function is called again for every connection (WebSocket) or request (HTTP), so
//    a refreshed token is picked up without any other signal.
// 2. A token function that throws (or rejects) is an `unauthorized` failure with the reason, its
//    error as `cause` and `details.tokenFunction: true`, so the session shows status
//    `unauthorized` at once instead of retrying it as a network failure.
import { ChronicleError, isChronicleError } from "@chronicle/core";

/** A bearer token, or a function returning a fresh one (called per connection or request). */
export type TokenSource = string | (() => string | Promise<string>);

/** The token to send now, or undefined when there is none; throws `unauthorized` (rule 2). */
export async function resolveToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (typeof source !== "function") return source;
  try {
    return await source();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ChronicleError("unauthorized", `the token function failed: ${reason}`, {
      cause: error,
      details: { tokenFunction: true },
    });
  }
}

/** True for the failure of a token function (rule 2). */
export function isTokenFailure(error: unknown): boolean {
  return isChronicleError(error, "unauthorized") && error.details.tokenFunction === true;
}

/// <reference types="vite/client" />
// The demo's side of the node's sign-in (POST /v1/sign-in, anonymousSignIn on the node): each
// visitor is who its signed cookie says, and its device holds one short-lived token at a time,
// signing in again shortly before it runs out (the sync client asks on every connect).
import { ChronicleError, type ErrorCode } from "@chronicle/core";
import { z } from "zod";

/**
 * Where the node is. The deployed demo is served by the node itself (same origin, the build sets
 * `VITE_CHRONICLE_NODE_PATH=""`); under `npm start` and `vite preview` the Vite server proxies
 * `/sync` to the local node.
 */
export const nodeUrl = `${self.location.origin}${import.meta.env.VITE_CHRONICLE_NODE_PATH ?? "/sync"}`;

const signInAnswer = z.object({ token: z.string(), sub: z.string(), expiresAt: z.number() });

/** Sign in again this long before the token runs out (clocks differ; a connect takes time). */
const RENEW_BEFORE_SECONDS = 30;

const codeByStatus: Record<number, ErrorCode> = {
  401: "unauthorized",
  403: "forbidden",
  429: "rate-limited",
};

async function signIn(node: string): Promise<z.infer<typeof signInAnswer>> {
  // The visitor cookie goes along (same origin) and comes back renewed.
  const response = await fetch(`${node}/v1/sign-in`, { method: "POST" });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: unknown };
    const message = typeof body.message === "string" ? body.message : `HTTP ${response.status}`;
    throw new ChronicleError(
      codeByStatus[response.status] ?? "offline",
      `sign-in refused: ${message}`,
      { details: { status: response.status, retryAfter: response.headers.get("Retry-After") } },
    );
  }
  return signInAnswer.parse(await response.json());
}

/**
 * The sync client's token function: the current token while it has more than 30 s left, else a
 * fresh one from the node's sign-in (one request at a time, however many sockets ask).
 */
export function visitorToken(node: string = nodeUrl): () => Promise<string> {
  let current: z.infer<typeof signInAnswer> | undefined;
  let pending: Promise<string> | undefined;
  return () => {
    if (current && current.expiresAt - RENEW_BEFORE_SECONDS > Date.now() / 1000) {
      return Promise.resolve(current.token);
    }
    pending ??= signIn(node)
      .then((answer) => {
        current = answer;
        return answer.token;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

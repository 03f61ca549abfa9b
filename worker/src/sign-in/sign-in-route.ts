// internal: not exported. `POST /v1/sign-in`: calls the app's sign-in, checks what it granted
// and signs it with the node's HS256 secret. Refusals are the app's coded errors (the node's one
// onError turns them into statuses); a grant of the wrong shape is the app's bug: `internal`.
import { ChronicleError } from "@chronicle/core";
import { tokenClaims } from "@chronicle/sync/protocol";
import type { Context } from "hono";
import { hmacKey, signToken } from "../auth/jwt.ts";
import type { SyncNodeEnv } from "../env.ts";
import type { SignIn, SignInAnswer } from "./sign-in.ts";

/** Default token life. Clients sign in again when it runs out. */
export const DEFAULT_SIGN_IN_TTL_SECONDS = 900;
const MAX_SIGN_IN_TTL_SECONDS = 86_400;

/** The route's handler, given the app's sign-in and how the node reads its secret. */
export function signInHandler<E extends SyncNodeEnv>(
  signIn: SignIn<E>,
  secretOf: (env: E) => string | undefined,
  devMode: (env: E) => boolean,
): (c: Context<{ Bindings: E }>) => Promise<Response> {
  return async (c) => {
    const grant = await signIn(c);
    const ttl = grant?.ttlSeconds ?? DEFAULT_SIGN_IN_TTL_SECONDS;
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_SIGN_IN_TTL_SECONDS) {
      throw new ChronicleError(
        "internal",
        `signIn granted ttlSeconds ${String(ttl)}: it must be an integer from 1 to ${MAX_SIGN_IN_TTL_SECONDS}`,
      );
    }
    const exp = Math.floor(Date.now() / 1000) + ttl;
    const claims = tokenClaims.safeParse({ sub: grant?.sub, streams: grant?.streams, exp });
    if (!claims.success) {
      throw new ChronicleError(
        "internal",
        "signIn returned a malformed grant: it needs sub (1-256 chars) and streams ({ pattern: 'read' | 'write' })",
      );
    }
    const { sub, streams } = claims.data;
    const token = await signToken({ sub, streams, exp }, hmacKey(secretOf(c.env), devMode(c.env)));
    const answer: SignInAnswer = { token, sub, streams, expiresAt: exp };
    // A token is a credential: no cache may keep it.
    c.header("Cache-Control", "no-store");
    return c.json(answer);
  };
}

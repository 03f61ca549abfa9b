// internal: not exported. Who is calling and what they may do with a stream, decided in the
// Worker from the request alone, before any Durable Object is touched.
import { ChronicleError } from "@chronicle/core";
import { accessFor, allows, type StreamAccess, type TokenClaims } from "@chronicle/sync/protocol";
import { verifyToken } from "./jwt.ts";

/** A caller the node has authenticated, with its access to the stream in the URL. */
export interface Caller {
  sub: string;
  access: StreamAccess;
  /** When the token expires (seconds since epoch): a socket is refused frames after it. */
  exp: number;
  /** The Sec-WebSocket-Protocol value that carried the token, to echo back on upgrade. */
  protocol?: string;
}

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Finds the token: `Authorization: Bearer`, then (for browsers' WebSockets, which cannot set
 * headers) `?token=`, then an offered `Sec-WebSocket-Protocol` value shaped like a JWT.
 */
export function tokenOf(request: Request): { token: string; protocol?: string } | undefined {
  const authorization = request.headers.get("Authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new ChronicleError("unauthorized", "Authorization must be 'Bearer <token>'");
    return { token: match[1]! };
  }
  const query = new URL(request.url).searchParams.get("token");
  if (query !== null) return { token: query };
  const offered = request.headers.get("Sec-WebSocket-Protocol");
  if (offered !== null) {
    const token = offered
      .split(",")
      .map((value) => value.trim())
      .find((value) => jwtShape.test(value));
    if (token !== undefined) return { token, protocol: token };
  }
  return undefined;
}

/** The HS256 key, or `internal` when the node has none (a deployment mistake, logged). */
export function requireSecret(secret: string | undefined): string {
  if (!secret) {
    throw new ChronicleError(
      "internal",
      "CHRONICLE_SECRET is not configured (npx wrangler secret put CHRONICLE_SECRET)",
    );
  }
  return secret;
}

/** Verifies the request's token with the HS256 `secret`: `unauthorized` when absent or invalid. */
export async function authenticate(
  request: Request,
  secret: string | undefined,
): Promise<TokenClaims & { protocol?: string }> {
  const found = tokenOf(request);
  if (!found) throw new ChronicleError("unauthorized", "a bearer token is required");
  const claims = await verifyToken(found.token, requireSecret(secret));
  return found.protocol === undefined ? claims : { ...claims, protocol: found.protocol };
}

/** Checks the claims grant `needed` on `stream`: `forbidden` otherwise. */
export function authorize(
  claims: TokenClaims & { protocol?: string },
  stream: string,
  needed: StreamAccess,
): Caller {
  const access = accessFor(claims.streams, stream);
  if (!allows(access, needed)) {
    throw new ChronicleError("forbidden", `token of ${claims.sub} may not ${needed} ${stream}`, {
      details: { stream, needed },
    });
  }
  const caller: Caller = { sub: claims.sub, access: access!, exp: claims.exp };
  if (claims.protocol !== undefined) caller.protocol = claims.protocol;
  return caller;
}

// internal: not exported. The one auth middleware of the stream routes: who is calling and what
// they may do with the stream in the URL, decided in the Worker from the request alone, before
// any Durable Object is touched. Routes read the result from `c.var.caller`.
import { assertStreamId, ChronicleError } from "@chronicle/core";
import { accessFor, allows, type StreamAccess } from "@chronicle/sync/protocol";
import type { MiddlewareHandler } from "hono";
import type { SyncNodeEnv } from "../env.ts";
import type { TokenVerifier } from "./verify-token.ts";

/** A caller the node has authenticated, with its access to the stream in the URL. */
export interface Caller {
  sub: string;
  stream: string;
  access: StreamAccess;
  /**
   * When the token stops being accepted (seconds since epoch: `exp`, plus the clock-skew
   * allowance for provider tokens). A socket is closed then.
   */
  exp: number;
  /** The Sec-WebSocket-Protocol value that carried the token, to echo back on upgrade. */
  protocol?: string;
}

export interface AuthVariables {
  caller: Caller;
}

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Finds the token: `Authorization: Bearer`; on the WebSocket route only (browsers cannot set
 * headers there), then `?token=` or an offered `Sec-WebSocket-Protocol` value shaped like a JWT.
 * Elsewhere `?token=` is refused: a token in a URL ends up in logs.
 */
export function tokenOf(
  request: Request,
  websocket: boolean,
): { token: string; protocol?: string } | undefined {
  const query = new URL(request.url).searchParams.get("token");
  if (query !== null && !websocket) {
    throw new ChronicleError(
      "unauthorized",
      "?token= is accepted only on the WebSocket route; send Authorization: Bearer <token>",
    );
  }
  const authorization = request.headers.get("Authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new ChronicleError("unauthorized", "Authorization must be 'Bearer <token>'");
    return { token: match[1]! };
  }
  if (!websocket) return undefined;
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

/**
 * The auth middleware: verifies the token (`unauthorized`), checks the stream id in the URL
 * (`validation`) and that the token grants `needed` on it (`forbidden`), then sets
 * `c.var.caller`.
 */
export function requireAccess<E extends SyncNodeEnv>(
  needed: StreamAccess,
  verify: TokenVerifier<E>,
  { websocket = false }: { websocket?: boolean } = {},
): MiddlewareHandler<{ Bindings: E; Variables: AuthVariables }> {
  return async (c, next) => {
    const found = tokenOf(c.req.raw, websocket);
    if (!found) throw new ChronicleError("unauthorized", "a bearer token is required");
    const token = await verify(found.token, c.env);
    const stream = c.req.param("stream");
    assertStreamId(stream);
    const access = accessFor(token.streams, stream);
    if (!allows(access, needed)) {
      throw new ChronicleError("forbidden", `token of ${token.sub} may not ${needed} ${stream}`, {
        details: { stream, needed },
      });
    }
    const caller: Caller = { sub: token.sub, stream, access: access!, exp: token.expiresAt };
    if (found.protocol !== undefined) caller.protocol = found.protocol;
    c.set("caller", caller);
    await next();
  };
}

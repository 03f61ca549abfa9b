// internal: not exported. The HS256 key and the dev route's signing (jose). Verification is in
// verify-token.ts.
import { ChronicleError } from "@chronicle/core";
import type { TokenClaims } from "@chronicle/sync/protocol";
import { SignJWT } from "jose";

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (32 bytes). */
export const MIN_SECRET_BYTES = 32;

const encoder = new TextEncoder();

/** The reason a secret is too short, or undefined when it is long enough. */
export function shortSecret(secret: string): string | undefined {
  const bytes = encoder.encode(secret).byteLength;
  return bytes >= MIN_SECRET_BYTES
    ? undefined
    : `the HS256 secret is ${bytes} bytes; it must be at least ${MIN_SECRET_BYTES} (RFC 7518 §3.2). ` +
        "Generate one with `openssl rand -base64 32` and set it with `npx wrangler secret put CHRONICLE_SECRET`";
}

/**
 * The HS256 key as bytes. A missing or short key is a deployment mistake: `internal` (logged),
 * except that dev mode (the dev token route is on: `CHRONICLE_DEV=1` or `devTokenRoute: true`)
 * accepts a short one.
 */
export function hmacKey(secret: string | undefined, devMode: boolean): Uint8Array {
  if (!secret) {
    throw new ChronicleError(
      "internal",
      "CHRONICLE_SECRET is not configured (npx wrangler secret put CHRONICLE_SECRET)",
    );
  }
  const short = shortSecret(secret);
  if (short !== undefined && !devMode) throw new ChronicleError("internal", short);
  return encoder.encode(secret);
}

/**
 * Signs claims as an HS256 JWT (the dev token route; tests).
 *
 * @example
 * const token = await signToken({ sub: "alice", streams: { "board:*": "write" }, exp }, secret);
 */
export function signToken(claims: TokenClaims, secret: string | Uint8Array): Promise<string> {
  const { iat, ...rest } = claims;
  return new SignJWT(iat === undefined ? rest : { ...rest, iat })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(typeof secret === "string" ? encoder.encode(secret) : secret);
}

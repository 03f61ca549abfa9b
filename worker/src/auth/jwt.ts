// internal: not exported. HS256 JSON Web Tokens with Web Crypto (no dependency): sign for the
// dev token route, verify on every request before anything reaches a Durable Object.
import { ChronicleError } from "@chronicle/core";
import { type TokenClaims, tokenClaims } from "@chronicle/sync/protocol";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keys.set(secret, key);
  }
  return key;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const padded = text
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(text.length / 4) * 4, "=");
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

const unauthorized = (message: string) => new ChronicleError("unauthorized", message);

/**
 * Signs claims as an HS256 JWT.
 *
 * @example
 * const token = await signToken({ sub: "alice", streams: { "board:*": "write" }, exp }, secret);
 */
export async function signToken(claims: TokenClaims, secret: string): Promise<string> {
  const header = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    encoder.encode(`${header}.${payload}`),
  );
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

/**
 * Verifies an HS256 JWT and returns its claims; `unauthorized` when it is malformed, signed with
 * another key or algorithm, expired, or its claims do not have the node's shape.
 */
export async function verifyToken(
  token: string,
  secret: string,
  nowSeconds = Date.now() / 1000,
): Promise<TokenClaims> {
  const parts = token.split(".");
  if (parts.length !== 3 || token.length > 8192) throw unauthorized("malformed token");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  let signature: Uint8Array;
  try {
    header = JSON.parse(decoder.decode(fromBase64url(headerPart)));
    payload = JSON.parse(decoder.decode(fromBase64url(payloadPart)));
    signature = fromBase64url(signaturePart);
  } catch {
    throw unauthorized("malformed token");
  }
  // Only HS256: "none" and asymmetric algorithms are refused before any signature check.
  if ((header as { alg?: unknown } | null)?.alg !== "HS256") {
    throw unauthorized("token algorithm must be HS256");
  }
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    signature,
    encoder.encode(`${headerPart}.${payloadPart}`),
  );
  if (!valid) throw unauthorized("token signature is invalid");
  const claims = tokenClaims.safeParse(payload);
  if (!claims.success) throw unauthorized("token claims are malformed");
  if (claims.data.exp <= nowSeconds) throw unauthorized("token expired");
  return claims.data;
}

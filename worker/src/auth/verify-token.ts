// internal: not exported. Token verification with jose (RFC 7515/7519; RFC 8725's practices):
// 1. The token's `alg` picks the verifier: HS256 -> the shared secret; an algorithm of the
//    JWKS's pinned list -> the provider's keys (by `kid`). Anything else, `none` included, is
//    refused before any signature check.
// 2. `exp` is required; `exp` and `nbf` are checked with the clock-skew allowance (JWKS tokens
//    only: HS256 tokens come from the app's own backend, on the node's clock); an unknown `crit`
//    header is refused; JWKS tokens must carry the configured `iss` (and `aud`).
// 3. Every part must be canonical base64url: a signature whose unused trailing bits are set
//    decodes to the same bytes, so without this one token would have many spellings.
// 4. The grants come from the verified payload through `claims` (default: sub, streams, exp) and
//    must have the node's shape; otherwise `unauthorized`.
// Failures are `unauthorized`; a JWKS that cannot be fetched, or a missing key, is `internal`.
import { ChronicleError } from "@chronicle/core";
import { tokenClaims } from "@chronicle/sync/protocol";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import type { SyncNodeEnv } from "../env.ts";
import type {
  JwksAlgorithm,
  SyncNodeAuthOptions,
  SyncNodeJwksOptions,
  TokenGrants,
} from "../options.ts";
import { hmacKey, shortSecret } from "./jwt.ts";

/** What a verified token grants. */
export interface VerifiedToken {
  sub: string;
  streams: TokenGrants["streams"];
  /** The instant (seconds since epoch) after which the token is no longer accepted. */
  expiresAt: number;
}

export type TokenVerifier<E extends SyncNodeEnv> = (
  token: string,
  env: E,
) => Promise<VerifiedToken>;

const defaultAlgorithms: readonly JwksAlgorithm[] = ["RS256", "ES256", "EdDSA"];
const asymmetric = new Set<string>([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);
const MAX_TOKEN_LENGTH = 8192;
const base64urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const unauthorized = (message: string) => new ChronicleError("unauthorized", message);

/** True when `part` is base64url without padding whose unused trailing bits are zero. */
export function isCanonicalBase64url(part: string): boolean {
  if (!/^[A-Za-z0-9_-]*$/.test(part) || part.length % 4 === 1) return false;
  const rest = part.length % 4;
  if (rest === 0) return true;
  const last = base64urlAlphabet.indexOf(part[part.length - 1]!);
  // 2 chars carry 8 bits (4 unused), 3 chars carry 16 bits (2 unused).
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

function checkNonNegative(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
    throw new Error(`auth.jwks.${name} must be a number >= 0, got ${String(value)}`);
  }
}

/** internal: throws a precise Error for auth options that can never work. */
export function checkAuthOptions<E extends SyncNodeEnv>(
  auth: SyncNodeAuthOptions<E>,
  devMode: boolean,
): void {
  if (typeof auth.secret === "string" && !devMode) {
    const short = shortSecret(auth.secret);
    if (short !== undefined) throw new Error(`auth.secret: ${short}`);
  }
  const jwks = auth.jwks;
  if (jwks === undefined) return;
  for (const alg of jwks.algorithms ?? []) {
    if (!asymmetric.has(alg)) {
      throw new Error(`auth.jwks.algorithms: ${alg} is not an asymmetric JWS algorithm`);
    }
  }
  if (jwks.algorithms?.length === 0) throw new Error("auth.jwks.algorithms must not be empty");
  if (jwks.url !== undefined) new URL(jwks.url); // throws on a malformed URL
  checkNonNegative(jwks.clockSkewSeconds, "clockSkewSeconds");
  checkNonNegative(jwks.cacheMaxAgeSeconds, "cacheMaxAgeSeconds");
}

function claimAt(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const step of name.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

const list = (value: string | undefined) =>
  value
    ?.split(",")
    .map((item) => item.trim())
    .filter(Boolean);

interface ResolvedJwks {
  getKey: JWTVerifyGetKey;
  algorithms: string[];
  issuer: string | string[];
  audience?: string | string[];
  clockSkewSeconds: number;
}

/**
 * Builds the node's verifier from `createSyncNode`'s auth options and, per request, the env.
 * Key sets are built once per URL and kept for the isolate's life (jose caches and refreshes).
 */
export function createTokenVerifier<E extends SyncNodeEnv>(
  auth: SyncNodeAuthOptions<E> = {},
  devMode: (env: E) => boolean = (env) => env.CHRONICLE_DEV === "1",
): TokenVerifier<E> {
  const inline = auth.jwks?.keys?.length
    ? createLocalJWKSet({ keys: [...auth.jwks.keys] })
    : undefined;
  const remotes = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  const remoteFor = (url: string, options: SyncNodeJwksOptions | undefined) => {
    let remote = remotes.get(url);
    if (!remote) {
      const fetcher = options?.fetch;
      remote = createRemoteJWKSet(new URL(url), {
        cacheMaxAge: (options?.cacheMaxAgeSeconds ?? 600) * 1000,
        cooldownDuration: Math.min(30_000, (options?.cacheMaxAgeSeconds ?? 600) * 1000),
        ...(fetcher ? { [customFetch]: fetcher } : {}),
      });
      remotes.set(url, remote);
    }
    return remote;
  };

  const jwksOf = (env: E): ResolvedJwks | undefined => {
    const options = auth.jwks;
    const url = options?.url ?? env.CHRONICLE_JWKS_URL;
    if (!inline && !url) return undefined;
    const issuer = options?.issuer ?? env.CHRONICLE_JWT_ISSUER;
    if (!issuer || (Array.isArray(issuer) && issuer.length === 0)) {
      throw new ChronicleError(
        "internal",
        "a JWKS is configured without an issuer: set auth.jwks.issuer or CHRONICLE_JWT_ISSUER",
      );
    }
    const remote = url ? remoteFor(url, options) : undefined;
    const getKey: JWTVerifyGetKey = async (header, token) => {
      if (inline) {
        try {
          return await inline(header, token);
        } catch (error) {
          if (!remote || !(error instanceof errors.JWKSNoMatchingKey)) throw error;
        }
      }
      try {
        return await remote!(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey) throw error;
        if (error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        throw new ChronicleError("internal", `the JWKS at ${url} could not be used`, {
          cause: error,
        });
      }
    };
    const audience = options?.audience ?? list(env.CHRONICLE_JWT_AUDIENCE);
    const resolved: ResolvedJwks = {
      getKey,
      algorithms: [...(options?.algorithms ?? defaultAlgorithms)],
      issuer: typeof issuer === "string" ? issuer : [...issuer],
      clockSkewSeconds: options?.clockSkewSeconds ?? 60,
    };
    if (audience !== undefined && audience.length > 0) {
      resolved.audience = typeof audience === "string" ? audience : [...audience];
    }
    return resolved;
  };

  const secretOf = (env: E): string | undefined => {
    const secret = auth.secret;
    if (secret === undefined) return env.CHRONICLE_SECRET;
    return typeof secret === "function" ? secret(env) : secret;
  };

  const grantsOf = (payload: JWTPayload, env: E): TokenGrants => {
    if (auth.claims) return auth.claims(payload);
    const claim = env.CHRONICLE_JWT_STREAMS_CLAIM;
    return {
      sub: payload.sub as string,
      streams: (claim ? claimAt(payload, claim) : payload.streams) as TokenGrants["streams"],
    };
  };

  return async (token, env) => {
    const parts = token.split(".");
    if (token.length > MAX_TOKEN_LENGTH || parts.length !== 3) {
      throw unauthorized("malformed token");
    }
    if (!parts.every(isCanonicalBase64url)) throw unauthorized("malformed token (base64url)");
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized("malformed token");
    }
    let payload: JWTPayload;
    let skew = 0;
    try {
      if (alg === "HS256") {
        const secret = secretOf(env);
        if (secret === undefined && jwksOf(env) !== undefined) {
          throw unauthorized("this node accepts only tokens from its identity provider");
        }
        ({ payload } = await jwtVerify(token, hmacKey(secret, devMode(env)), {
          algorithms: ["HS256"],
          requiredClaims: ["exp"],
        }));
      } else {
        const jwks = jwksOf(env);
        if (jwks === undefined) {
          if (secretOf(env) === undefined) hmacKey(undefined, false); // no key at all: internal
          throw unauthorized("token algorithm must be HS256");
        }
        if (typeof alg !== "string" || !jwks.algorithms.includes(alg)) {
          throw unauthorized(`token algorithm must be one of ${jwks.algorithms.join(", ")}`);
        }
        skew = jwks.clockSkewSeconds;
        const options: Parameters<typeof jwtVerify>[2] = {
          algorithms: jwks.algorithms,
          issuer: jwks.issuer,
          requiredClaims: ["exp"],
          clockTolerance: skew,
        };
        if (jwks.audience !== undefined) options.audience = jwks.audience;
        ({ payload } = await jwtVerify(token, jwks.getKey, options));
      }
    } catch (error) {
      if (error instanceof ChronicleError) throw error;
      if (error instanceof errors.JWTExpired) throw unauthorized("token expired");
      if (error instanceof errors.JOSEError) {
        throw unauthorized(`token refused: ${error.message}`);
      }
      throw error;
    }
    const grants = grantsOf(payload, env);
    // A mapping may shorten the token's life, never lengthen it past its verified `exp`.
    const exp = typeof grants?.exp === "number" ? Math.min(grants.exp, payload.exp!) : payload.exp;
    const claims = tokenClaims.safeParse({ sub: grants?.sub, streams: grants?.streams, exp });
    if (!claims.success) throw unauthorized("token claims are malformed (sub, streams, exp)");
    const expiresAt = claims.data.exp + skew;
    if (expiresAt <= Date.now() / 1000) throw unauthorized("token expired");
    return { sub: claims.data.sub, streams: claims.data.streams, expiresAt };
  };
}

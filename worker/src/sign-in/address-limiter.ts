// internal: not exported. Sign-ins per client address: a token bucket per address (the
// `CF-Connecting-IP` Cloudflare sets), in the isolate's memory. Cloudflare runs many isolates,
// so this bounds each one, not the whole deployment: a per-location limit that costs no storage
// call. A deployment that wants one global count adds a rate-limiting rule (WAF) on the route,
// or passes a Workers Rate Limiting binding (`limiter`).
import { ChronicleError } from "@chronicle/core";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** Addresses kept before full buckets are dropped (a full bucket is the same as none). */
const PRUNE_AT = 10_000;

/** How many sign-ins one address may make. */
export interface AddressRate {
  perMinute: number;
  burst: number;
}

export class AddressLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #rate: AddressRate;

  constructor(rate: AddressRate) {
    for (const [key, value] of Object.entries(rate)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new Error(`rateLimit.${key} must be a positive integer, got ${String(value)}`);
      }
    }
    this.#rate = rate;
  }

  /** Takes one sign-in for `address`; `rate-limited` with `details.retryAfter` when none is left. */
  take(address: string, now = Date.now()): void {
    const { perMinute, burst } = this.#rate;
    const perMs = perMinute / 60_000;
    let bucket = this.#buckets.get(address);
    if (!bucket) {
      if (this.#buckets.size >= PRUNE_AT) this.#prune(now, perMs, burst);
      bucket = { tokens: burst, refilledAt: now };
      this.#buckets.set(address, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, now - bucket.refilledAt) * perMs);
    bucket.refilledAt = now;
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw signInsLimited(
        retryAfter,
        `more than ${perMinute} sign-ins per minute (burst ${burst})`,
      );
    }
    bucket.tokens -= 1;
  }

  #prune(now: number, perMs: number, burst: number): void {
    for (const [address, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.refilledAt) * perMs >= burst) this.#buckets.delete(address);
    }
  }
}

/** The coded refusal: 429 with `Retry-After` (http/errors.ts reads `details.retryAfter`). */
export function signInsLimited(retryAfter: number, why: string): ChronicleError {
  return new ChronicleError(
    "rate-limited",
    `too many sign-ins from this address (${why}); retry in ${retryAfter} s`,
    { details: { retryAfter } },
  );
}

// internal: not exported. Rate limits per token subject, per stream (docs/architecture.md, rule
// 7): every socket frame, HTTP push and pull and WebSocket upgrade of one subject reaches this
// stream's one object, so one token bucket per subject here holds all of them to one allowance,
// however many sockets they open. Buckets live in memory: no timer keeps the object awake, and a
// bucket lost when the object hibernates or is evicted only refills early.
import { ChronicleError } from "@chronicle/core";

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** Buckets kept before full ones are dropped (a full bucket is the same as none). */
const PRUNE_AT = 10_000;

export class SubjectBuckets {
  readonly #buckets = new Map<string, Bucket>();

  /**
   * Takes one token for `sub`, refilling at `ratePerSecond` up to `burst`; `rate-limited` with
   * `details.retryAfter` (seconds until a token is back) when the bucket is empty. A refused
   * request takes nothing.
   */
  take(sub: string, now: number, ratePerSecond: number, burst: number): void {
    let bucket = this.#buckets.get(sub);
    if (!bucket) {
      if (this.#buckets.size >= PRUNE_AT) this.#prune(now, ratePerSecond, burst);
      bucket = { tokens: burst, refilledAt: now };
      this.#buckets.set(sub, bucket);
    }
    const elapsed = Math.max(0, now - bucket.refilledAt);
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * ratePerSecond) / 1000);
    bucket.refilledAt = now;
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond));
      throw new ChronicleError(
        "rate-limited",
        `${sub} made more than ${ratePerSecond} requests per second (burst ${burst}) on this stream; retry in ${retryAfter} s`,
        { details: { retryAfter, ratePerSecond, burst } },
      );
    }
    bucket.tokens -= 1;
  }

  #prune(now: number, ratePerSecond: number, burst: number): void {
    for (const [sub, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.refilledAt) * ratePerSecond) / 1000 >= burst) {
        this.#buckets.delete(sub);
      }
    }
  }
}

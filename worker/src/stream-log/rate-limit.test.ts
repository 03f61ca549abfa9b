import { isChronicleError } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { SubjectBuckets } from "./rate-limit.ts";

function refusal(fn: () => void): { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    if (isChronicleError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("token bucket per subject", () => {
  it("allows the burst, refuses the next request with retryAfter, and refills with the clock", () => {
    const buckets = new SubjectBuckets();
    for (let i = 0; i < 3; i++) buckets.take("a", 0, 10, 3);
    expect(refusal(() => buckets.take("a", 0, 10, 3))).toEqual({
      code: "rate-limited",
      details: { retryAfter: 1, ratePerSecond: 10, burst: 3 },
    });
    // 10 per second: one token after 100 ms, never more than the burst.
    buckets.take("a", 100, 10, 3);
    expect(() => buckets.take("a", 100, 10, 3)).toThrow(/requests per second/);
    for (let i = 0; i < 3; i++) buckets.take("a", 60_000, 10, 3);
    expect(() => buckets.take("a", 60_000, 10, 3)).toThrow();
  });

  it("keeps one bucket per subject", () => {
    const buckets = new SubjectBuckets();
    buckets.take("a", 0, 1, 1);
    expect(() => buckets.take("a", 0, 1, 1)).toThrow();
    buckets.take("b", 0, 1, 1);
  });

  it("tells how long to wait at a slow rate", () => {
    const buckets = new SubjectBuckets();
    buckets.take("a", 0, 0.1, 1);
    expect(refusal(() => buckets.take("a", 0, 0.1, 1)).details.retryAfter).toBe(10);
  });

  it("does not refill from a clock that goes backwards", () => {
    const buckets = new SubjectBuckets();
    buckets.take("a", 1_000, 10, 1);
    expect(() => buckets.take("a", 0, 10, 1)).toThrow();
  });
});

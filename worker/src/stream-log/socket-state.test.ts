import { isChronicleError } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { type SocketState, takeToken } from "./socket-state.ts";

const fresh = (tokens: number): SocketState => ({
  sub: "a",
  access: "write",
  stream: "s",
  exp: 0,
  subscribed: false,
  tokens,
  refilledAt: 0,
});

describe("token bucket", () => {
  it("allows the burst, refuses the next frame, and refills with the clock", () => {
    const state = fresh(3);
    for (let i = 0; i < 3; i++) takeToken(state, 0, 10, 3);
    let refused: unknown;
    try {
      takeToken(state, 0, 10, 3);
    } catch (error) {
      refused = error;
    }
    expect(isChronicleError(refused, "rate-limited")).toBe(true);
    // 10 per second: one token after 100 ms, never more than the burst.
    takeToken(state, 100, 10, 3);
    expect(() => takeToken(state, 100, 10, 3)).toThrow(/frames per second/);
    takeToken(state, 60_000, 10, 3);
    expect(state.tokens).toBe(2);
  });

  it("does not refill from a clock that goes backwards", () => {
    const state = fresh(0);
    state.refilledAt = 1_000;
    expect(() => takeToken(state, 0, 10, 3)).toThrow();
  });
});

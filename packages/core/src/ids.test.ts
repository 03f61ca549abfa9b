import { describe, expect, it } from "vitest";
import { isUuid, uuidv7, uuidv7Time } from "./ids.ts";

describe("uuidv7", () => {
  it("has version 7, the RFC variant and the timestamp", () => {
    const id = uuidv7(1_700_000_000_123);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("7");
    expect(["8", "9", "a", "b"]).toContain(id[19]);
    expect(uuidv7Time(id)).toBe(1_700_000_000_123);
  });

  it("is strictly increasing within one millisecond, even past the counter's range", () => {
    const ids = Array.from({ length: 10_000 }, () => uuidv7(1_800_000_000_000));
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("never goes backwards when the clock does", () => {
    const later = uuidv7(1_900_000_000_000);
    const earlier = uuidv7(1_000);
    expect(earlier > later).toBe(true);
  });
});

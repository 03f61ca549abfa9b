import { describe, expect, it } from "vitest";
import { ChronicleError, isChronicleError, toChronicleError } from "./errors.ts";

describe("ChronicleError", () => {
  it("round-trips through JSON with its code and details", () => {
    const error = new ChronicleError("conflict", "head moved", { details: { head: 7 } });
    const wire = JSON.parse(JSON.stringify(error));
    expect(wire).toEqual({ code: "conflict", message: "head moved", details: { head: 7 } });
    const back = ChronicleError.fromJSON(wire);
    expect(back.code).toBe("conflict");
    expect(back.details).toEqual({ head: 7 });
    expect(back.message).toBe("head moved");
  });

  it("is recognised by code even when rebuilt as a plain object (after structured clone)", () => {
    const plain = structuredClone({ code: "quota", message: "full" });
    expect(isChronicleError(plain)).toBe(true);
    expect(isChronicleError(plain, "quota")).toBe(true);
    expect(isChronicleError(plain, "offline")).toBe(false);
    expect(isChronicleError(new Error("x"))).toBe(false);
    expect(isChronicleError({ code: "ENOENT" })).toBe(false);
  });

  it("maps unknown codes and junk to internal, keeping what it can", () => {
    const error = ChronicleError.fromJSON({ code: "weird", message: "m" });
    expect(error.code).toBe("internal");
    expect(error.details.originalCode).toBe("weird");
    expect(ChronicleError.fromJSON("nope").code).toBe("internal");
  });

  it("wraps foreign errors with a cause", () => {
    const cause = new TypeError("bad");
    const error = toChronicleError(cause);
    expect(error.code).toBe("internal");
    expect(error.cause).toBe(cause);
    const same = new ChronicleError("offline", "x");
    expect(toChronicleError(same)).toBe(same);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEnvelope } from "../events/envelope.ts";
import { isUuid } from "../ids.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { deterministicId, processEventId, sha256, utf8 } from "./deterministic-id.ts";

const hexOf = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

describe("deterministic ids", () => {
  it("sha256 matches the standard vectors and WebCrypto's digest", async () => {
    expect(hexOf(sha256(utf8("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(hexOf(sha256(utf8("")))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 200 }), async (text) => {
        const bytes = new TextEncoder().encode(text);
        expect(hexOf(utf8(text))).toBe(hexOf(bytes));
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        expect(hexOf(sha256(utf8(text)))).toBe(hexOf(digest));
      }),
    );
  });

  it("are UUIDv8-shaped, stable, and differ with any part", () => {
    const id = processEventId({ process: "p", instance: "i", step: 1, command: 0, event: 0 });
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe("8");
    expect("89ab").toContain(id[19]);
    expect(processEventId({ process: "p", instance: "i", step: 1, command: 0, event: 0 })).toBe(id);
    const others = [
      { process: "q", instance: "i", step: 1, command: 0, event: 0 },
      { process: "p", instance: "j", step: 1, command: 0, event: 0 },
      { process: "p", instance: "i", step: 2, command: 0, event: 0 },
      { process: "p", instance: "i", step: 1, command: 1, event: 0 },
      { process: "p", instance: "i", step: 1, command: 0, event: 1 },
    ].map(processEventId);
    expect(new Set([id, ...others]).size).toBe(6);
    expect(deterministicId(["a", "b"])).not.toBe(deterministicId(["a,b"]));
  });

  it("are accepted by the memory store, and re-appending them is a duplicate", async () => {
    const store = new MemoryEventStore();
    const event = createEnvelope("s-1", {
      type: "thing.happened",
      version: 1,
      data: null,
      id: processEventId({ process: "p", instance: "i", step: 1, command: 0, event: 0 }),
    });
    const first = await store.append("s-1", [event], { expectedVersion: "no-stream" });
    const again = await store.append("s-1", [event], { expectedVersion: "no-stream" });
    expect(again).toEqual(first);
    expect(await store.head("s-1")).toBe(1);
  });
});

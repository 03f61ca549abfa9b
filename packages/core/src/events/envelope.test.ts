import { describe, expect, it } from "vitest";
import { causedBy, createEnvelope, isStreamId } from "./envelope.ts";

describe("envelope", () => {
  it("fills meta, starting a new workflow when no correlation is given", () => {
    const event = createEnvelope(
      "board:1",
      { type: "a.b", version: 1, data: 1 },
      { actor: "al", device: "d", now: () => 42 },
    );
    expect(event.meta).toEqual({
      actor: "al",
      device: "d",
      occurredAt: 42,
      correlationId: event.id,
    });
    expect(event.position).toBeUndefined();
  });

  it("carries correlation and causation from an event to what it causes", () => {
    const cause = createEnvelope("order:1", { type: "order.placed", version: 1, data: {} });
    const effect = createEnvelope(
      "invoice:1",
      { type: "invoice.issued", version: 1, data: {} },
      causedBy(cause),
    );
    expect(effect.meta.correlationId).toBe(cause.meta.correlationId);
    expect(effect.meta.causationId).toBe(cause.id);
  });

  it("accepts stream ids by the documented pattern only", () => {
    expect(isStreamId("board:1")).toBe(true);
    expect(isStreamId("a".repeat(128))).toBe(true);
    expect(isStreamId("a".repeat(129))).toBe(false);
    expect(isStreamId(":board")).toBe(false);
    expect(isStreamId("board 1")).toBe(false);
    expect(isStreamId("")).toBe(false);
  });
});

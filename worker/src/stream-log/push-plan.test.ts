import { createEnvelope } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { planPush, pushResults } from "./push-plan.ts";

const batch = (n: number) =>
  Array.from({ length: n }, () => createEnvelope("s", { type: "t", version: 1, data: null }));

describe("planPush", () => {
  const [a, b, c] = batch(3);
  const stored = new Map([[a!.id, { id: a!.id, position: 4, recordedAt: 9 }]]);
  const lookup = (id: string) => stored.get(id);

  it("writes only the new events and merges results in push order", () => {
    const plan = planPush([b!, a!, c!], undefined, 5, lookup);
    if (plan.kind !== "write") throw new Error("expected a write");
    expect(plan.fresh.map((e) => e.id)).toEqual([b!.id, c!.id]);
    const written = [
      { id: b!.id, position: 6, recordedAt: 10 },
      { id: c!.id, position: 7, recordedAt: 10 },
    ];
    expect(pushResults(plan, written).map((r) => r.position)).toEqual([6, 4, 7]);
  });

  it("acks an all-stored strict push whatever the head (idempotency first)", () => {
    expect(planPush([a!], 0, 5, lookup)).toMatchObject({ kind: "write", fresh: [] });
  });

  it("conflicts when anything but the batch's own events lies after expected", () => {
    expect(planPush([b!], 4, 5, lookup)).toEqual({ kind: "conflict", head: 5 });
    expect(planPush([a!, b!], 3, 4, lookup)).toMatchObject({ kind: "write" });
    expect(planPush([a!, b!], 3, 5, lookup)).toEqual({ kind: "conflict", head: 5 });
    expect(planPush([b!], 5, 5, lookup)).toMatchObject({ kind: "write" });
  });
});

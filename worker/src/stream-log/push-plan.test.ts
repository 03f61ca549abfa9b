import { createEnvelope, isChronicleError, type NewEvent } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { planPush, pushResults, type StoredEvent } from "./push-plan.ts";

const batch = (n: number) =>
  Array.from({ length: n }, () => createEnvelope("s", { type: "t", version: 1, data: null }));

/** As LogTable stores it: node-owned fields stripped, meta.actor stamped. */
const storedAs = (event: NewEvent, position: number, actor = "node-stamped"): StoredEvent => ({
  id: event.id,
  position,
  recordedAt: 9,
  body: JSON.stringify({ ...event, meta: { ...event.meta, actor } }),
});

describe("planPush", () => {
  const [a, b, c] = batch(3);
  const stored = new Map([[a!.id, storedAs(a!, 4)]]);
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

  it("refuses a stored id with other content (id-conflict), whatever else the push holds", () => {
    for (const other of [
      { ...a!, data: { changed: true } },
      { ...a!, type: "other" },
      { ...a!, version: 2 },
      { ...a!, meta: { ...a!.meta, device: "elsewhere" } },
    ]) {
      let refused: unknown;
      try {
        planPush([b!, other], undefined, 5, lookup);
      } catch (error) {
        refused = error;
      }
      expect(isChronicleError(refused, "id-conflict")).toBe(true);
      expect((refused as { details: unknown }).details).toEqual({
        path: "events.1.id",
        id: a!.id,
        position: 4,
      });
    }
  });

  it("ignores what the node owns (position, recordedAt, meta.actor) and key order", () => {
    const again = { position: 99, recordedAt: 1, ...a!, meta: { ...a!.meta, actor: "someone" } };
    const reordered = JSON.parse(JSON.stringify(again, Object.keys(again).reverse()));
    expect(planPush([again], undefined, 5, lookup)).toMatchObject({ kind: "write", fresh: [] });
    expect(planPush([{ ...reordered, meta: again.meta }], undefined, 5, lookup)).toMatchObject({
      kind: "write",
    });
  });
});

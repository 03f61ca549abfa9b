// Node tier: events refused after delivery (a sync node's rejection reaches the host as event
// ids) make the instance that sent them compensate (P4), once.
import { describe, expect, it } from "vitest";
import { createCommandHandler } from "../decider/command-handler.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { fulfilment, order, payment, stock } from "./__fixtures__/shop.ts";
import { createVirtualClock } from "./clock.ts";
import { MemoryProcessStore } from "./memory-process-store.ts";
import { createProcessRunner } from "./process-runner.ts";

const start = Date.UTC(2025, 0, 1);

async function shop() {
  const clock = createVirtualClock(start);
  const store = new MemoryEventStore({ now: clock.now });
  const processStore = new MemoryProcessStore();
  const runner = createProcessRunner({
    store,
    processStore,
    clock,
    deciders: [order, stock, payment],
    processes: [fulfilment],
  });
  const context = { actor: "alice", device: "d1", now: clock.now };
  await createCommandHandler(store, stock, { context })("stock-apple", {
    type: "add",
    quantity: 3,
  });
  const place = (orderId: string) =>
    createCommandHandler(store, order, { context })(`order-${orderId}`, {
      type: "place",
      orderId,
      sku: "apple",
      quantity: 1,
      amount: 50,
    });
  const capture = (orderId: string) =>
    createCommandHandler(store, payment, { context })(`payment-${orderId}`, {
      type: "capture",
      orderId,
    });
  const types = async (stream: string) => (await store.readStream(stream)).map((e) => e.type);
  const delivered = async (orderId: string, stream: string) => {
    const instance = await runner.get("order-fulfilment", orderId);
    return instance!.history.flatMap((line) =>
      line.kind === "delivered" && line.stream === stream ? line.eventIds : [],
    );
  };
  return { clock, store, runner, place, capture, types, delivered };
}

const rejection = { code: "forbidden", message: "the node refused the payment" };

describe("process runner: refusals after delivery", () => {
  it("a refused payment request compensates in reverse order and ends compensated with the reason", async () => {
    const s = await shop();
    await s.place("o1");
    await s.runner.drain();
    expect(await s.types("payment-o1")).toEqual(["payment.requested"]);
    const ids = await s.delivered("o1", "payment-o1");
    expect(ids).toHaveLength(1);

    const [instance] = await s.runner.refused(ids, rejection);
    expect(instance).toMatchObject({
      status: "compensated",
      compensation: { reason: { ...rejection, outboxId: "2.0" }, failures: [] },
      deadlines: [],
      outbox: [],
    });
    // The stock reservation is released, then the order cancelled (reverse order).
    expect(await s.types("stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    expect(instance?.history.map((line) => line.kind).slice(-4)).toEqual([
      "refused",
      "compensating",
      "delivered",
      "delivered",
    ]);
  });

  it("is idempotent, ignores ids no instance sent, and leaves other instances alone", async () => {
    const s = await shop();
    await s.place("o1");
    await s.place("o2");
    await s.runner.drain();
    const ids = await s.delivered("o1", "payment-o1");
    expect(await s.runner.refused(["not-a-process-event"], rejection)).toEqual([]);
    expect(await s.runner.refused(ids, rejection)).toHaveLength(1);
    expect(await s.runner.refused(ids, rejection)).toEqual([]);
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    expect(await s.types("stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.reserved",
      "stock.released",
    ]);
    expect((await s.runner.get("order-fulfilment", "o2"))?.status).toBe("waiting");
  });

  it("a refused reservation does not release what it never reserved", async () => {
    const s = await shop();
    await s.place("o1");
    await s.runner.drain();
    const ids = await s.delivered("o1", "stock-apple");
    const [instance] = await s.runner.refused(ids, rejection);
    expect(instance?.status).toBe("compensated");
    // Only the order's step compensation runs: the reservation's own release is dropped.
    expect(instance?.history.find((line) => line.kind === "compensating")).toMatchObject({
      commands: ["3.0"],
    });
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
  });

  it("an instance already done compensates when one of its commands is refused", async () => {
    const s = await shop();
    await s.place("o1");
    await s.runner.drain();
    await s.capture("o1");
    await s.runner.drain();
    expect((await s.runner.get("order-fulfilment", "o1"))?.status).toBe("done");
    const requested = await s.delivered("o1", "payment-o1");
    const [instance] = await s.runner.refused(requested, rejection);
    expect(await s.types("stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.released",
    ]);
    // This store kept the order's completion (a sync host drops refused events), so the
    // order's cancel is refused in turn: the instance ends failed, the refusal recorded.
    expect(instance).toMatchObject({
      status: "failed",
      compensation: { reason: { code: "forbidden" }, failures: [{ code: "conflict" }] },
    });
  });

  it("a refused compensation ends the instance failed", async () => {
    const s = await shop();
    await s.place("o1");
    await s.runner.drain();
    await s.runner.refused(await s.delivered("o1", "payment-o1"), rejection);
    const cancelled = (await s.runner.get("order-fulfilment", "o1"))!.history.flatMap((line) =>
      line.kind === "delivered" && line.stream === "order-o1" ? line.eventIds : [],
    );
    const [instance] = await s.runner.refused(cancelled, rejection);
    expect(instance).toMatchObject({ status: "failed", error: { code: "forbidden" } });
  });
});

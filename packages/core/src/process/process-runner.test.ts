import { describe, expect, it } from "vitest";
import { createCommandHandler } from "../decider/command-handler.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import type { EventStore } from "../store/types.ts";
import {
  cardLimit,
  fulfilment,
  order,
  payment,
  paymentWindowMs,
  stock,
} from "./__fixtures__/shop.ts";
import { createVirtualClock, type VirtualClock } from "./clock.ts";
import { processEventId } from "./deterministic-id.ts";
import { MemoryProcessStore } from "./memory-process-store.ts";
import { defineProcess, send } from "./process-definition.ts";
import { createProcessRunner } from "./process-runner.ts";
import type { ProcessStore } from "./process-store.ts";

const start = Date.UTC(2025, 0, 1);

function shop(
  clock: VirtualClock = createVirtualClock(start),
  store: EventStore = new MemoryEventStore({ now: clock.now }),
  processStore: ProcessStore = new MemoryProcessStore(),
) {
  const runner = () =>
    createProcessRunner({
      store,
      processStore,
      clock,
      deciders: [order, stock, payment],
      processes: [fulfilment],
    });
  const context = { actor: "alice", device: "d1", now: clock.now };
  return {
    clock,
    store,
    processStore,
    runner,
    addStock: (sku: string, quantity: number) =>
      createCommandHandler(store, stock, { context })(`stock-${sku}`, { type: "add", quantity }),
    place: (orderId: string, amount = 50, sku = "apple", quantity = 1) =>
      createCommandHandler(store, order, { context })(`order-${orderId}`, {
        type: "place",
        orderId,
        sku,
        quantity,
        amount,
      }),
    capture: (orderId: string) =>
      createCommandHandler(store, payment, { context })(`payment-${orderId}`, {
        type: "capture",
        orderId,
      }),
    types: async (stream: string) => (await store.readStream(stream)).map((event) => event.type),
  };
}

describe("process runner", () => {
  it("runs an order from placed to completed, each command once", async () => {
    const s = shop();
    await s.addStock("apple", 3);
    const runner = s.runner();
    await s.place("o1");
    await runner.drain();
    expect(await s.types("stock-apple")).toEqual(["stock.added", "stock.reserved"]);
    expect(await s.types("payment-o1")).toEqual(["payment.requested"]);
    let instance = await runner.get("order-fulfilment", "o1");
    expect(instance).toMatchObject({ status: "waiting", state: { stage: "charging" } });
    expect(instance?.deadlines).toEqual([
      { name: "payment-due", dueAt: start + paymentWindowMs, data: null, step: 1 },
    ]);

    await s.capture("o1");
    await runner.drain();
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.completed"]);
    instance = await runner.get("order-fulfilment", "o1");
    expect(instance).toMatchObject({ status: "done", deadlines: [], outbox: [] });
    expect(instance?.history.map((line) => line.kind)).toEqual([
      "event",
      "delivered",
      "event",
      "delivered",
      "event",
      "delivered",
    ]);

    // Nothing fires later: the deadline was cancelled.
    s.clock.advance(paymentWindowMs * 2);
    await runner.drain();
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.completed"]);
  });

  it("writes commands' events with deterministic ids, the instance's correlation and the input as cause", async () => {
    const s = shop();
    await s.addStock("apple", 1);
    const runner = s.runner();
    const placed = await s.place("o1");
    await runner.drain();
    const [, reserved] = await s.store.readStream("stock-apple");
    expect(reserved?.id).toBe(
      processEventId({
        process: "order-fulfilment",
        instance: "o1",
        step: 1,
        command: 0,
        event: 0,
      }),
    );
    expect(reserved?.meta).toMatchObject({
      correlationId: placed.events[0]!.meta.correlationId,
      causationId: placed.events[0]!.id,
      actor: "process-runner",
    });
    const instance = await runner.get("order-fulfilment", "o1");
    expect(instance?.history[1]).toMatchObject({ kind: "delivered", eventIds: [reserved?.id] });
  });

  it("compensates in reverse order when the card is refused, and records why", async () => {
    const s = shop();
    await s.addStock("apple", 2);
    const runner = s.runner();
    await s.place("o1", cardLimit + 1);
    await runner.drain();
    expect(await s.types("payment-o1")).toEqual([]);
    expect(await s.types("stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    // Released before cancelled: reverse order of what was done.
    const released = (await s.store.readStream("stock-apple"))[2]!;
    const cancelled = (await s.store.readStream("order-o1"))[1]!;
    const all = await s.store.readAll();
    const at = (id: string) => all.findIndex((entry) => entry.event.id === id);
    expect(at(released.id)).toBeLessThan(at(cancelled.id));

    const instance = await runner.get("order-fulfilment", "o1");
    expect(instance?.status).toBe("compensated");
    expect(instance?.compensation?.reason).toEqual({
      code: "forbidden",
      message: "card refused",
      outboxId: "2.0",
    });
    expect(instance?.deadlines).toEqual([]);
    // The timeout is gone: nothing more happens.
    s.clock.advance(paymentWindowMs);
    await runner.drain();
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
  });

  it("compensates what was done before a refused first command: nothing delivered, the order cancelled", async () => {
    const s = shop();
    const runner = s.runner();
    await s.place("o1"); // no stock at all
    await runner.drain();
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    const instance = await runner.get("order-fulfilment", "o1");
    expect(instance).toMatchObject({
      status: "compensated",
      compensation: { reason: { code: "conflict" } },
    });
  });

  it("fires a timeout that fell due while no runner was running", async () => {
    const s = shop();
    await s.addStock("apple", 1);
    await s.place("o1");
    await s.runner().drain();
    // The runner is gone; time passes; a new one starts.
    s.clock.advance(paymentWindowMs + 1);
    const runner = s.runner();
    await runner.drain();
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    expect(await s.types("stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.released",
    ]);
    const instance = await runner.get("order-fulfilment", "o1");
    expect(instance).toMatchObject({ status: "done", state: { stage: "expired" } });
    expect(instance?.handled).toContain("timeout:payment-due:1");
    // A late capture changes nothing: the instance is done.
    await s.capture("o1");
    await runner.drain();
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
  });

  it("a started runner follows new events and fires timeouts on the clock", async () => {
    const s = shop();
    await s.addStock("apple", 1);
    const runner = s.runner();
    await runner.start();
    await s.place("o1");
    await expect.poll(() => s.types("payment-o1")).toEqual(["payment.requested"]);
    expect(s.clock.pendingTimers).toBe(1);
    s.clock.advance(paymentWindowMs);
    await expect.poll(() => s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    await runner.stop();
  });

  it("handles an event once per instance, however often it comes", async () => {
    const s = shop();
    await s.addStock("apple", 5);
    const runner = s.runner();
    const placed = await s.place("o1");
    await runner.drain();
    await runner.handle(placed.events[0]!);
    await runner.handle(placed.events[0]!);
    await runner.drain();
    expect(await s.types("stock-apple")).toEqual(["stock.added", "stock.reserved"]);
    const instance = await runner.get("order-fulfilment", "o1");
    expect(instance?.handled.filter((id) => id === placed.events[0]!.id)).toHaveLength(1);
  });

  it("two runners over the same stores apply each command once", async () => {
    const s = shop();
    await s.addStock("apple", 10);
    for (const id of ["o1", "o2", "o3"]) await s.place(id);
    const [a, b] = [s.runner(), s.runner()];
    await Promise.all([a.drain(), b.drain(), a.drain()]);
    for (const id of ["o1", "o2", "o3"])
      expect(await s.types(`payment-${id}`)).toEqual(["payment.requested"]);
    expect((await s.types("stock-apple")).filter((type) => type === "stock.reserved")).toHaveLength(
      3,
    );
  });

  it("lists instances with status, history, outbox and deadlines", async () => {
    const s = shop();
    await s.addStock("apple", 1);
    const runner = s.runner();
    await s.place("o1");
    await s.place("o2", cardLimit * 2);
    await runner.drain();
    const listed = await runner.list({ process: "order-fulfilment" });
    expect(listed.map((instance) => [instance.id, instance.status])).toEqual([
      ["o1", "waiting"],
      ["o2", "compensated"],
    ]);
    expect(await runner.list({ status: ["compensated"] })).toHaveLength(1);
  });

  it("a handler that throws fails its instance, with the error, and the runner goes on", async () => {
    const s = shop();
    const broken = defineProcess({
      name: "broken",
      events: fulfilment.events,
      correlate: (event) => event.data.orderId,
      initialState: {},
      on: {
        "order.placed": () => {
          throw new Error("bug");
        },
      },
    });
    const runner = createProcessRunner({
      store: s.store,
      processStore: s.processStore,
      clock: s.clock,
      deciders: [order, stock, payment],
      processes: [broken],
    });
    await s.place("o1");
    await runner.drain();
    expect(await runner.get("broken", "o1")).toMatchObject({
      status: "failed",
      error: { code: "internal", message: "bug" },
    });
  });

  it("types: handlers see their event's data; commands must be the decider's", () => {
    defineProcess({
      name: "typed",
      events: fulfilment.events,
      correlate: (event) => event.data.orderId,
      initialState: { n: 0 },
      on: {
        "order.placed": (state, event) => {
          const amount: number = event.data.amount;
          // @ts-expect-error stock.reserved has no amount; order.placed's handler sees order.placed
          event.data.nothing;
          return {
            state: { n: state.n + amount },
            // @ts-expect-error a stock command sent to the payment decider
            commands: [send(payment, "payment-1", { type: "reserve", orderId: "o", quantity: 1 })],
          };
        },
      },
      timeouts: { later: (state) => ({ state }) },
    });
    defineProcess({
      name: "typed-timeouts",
      events: fulfilment.events,
      correlate: (event) => event.data.orderId,
      initialState: {},
      on: {
        // @ts-expect-error schedules a timeout that has no handler
        "order.placed": (state) => ({ state, schedule: [{ name: "nope", after: 1 }] }),
        "stock.reserved": (state) => ({ state, schedule: [{ name: "later", after: 1 }] }),
      },
      timeouts: { later: (state) => ({ state }) },
    });
    expect(true).toBe(true);
  });
});

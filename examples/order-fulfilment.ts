// Order fulfilment with a durable process (docs/architecture.md, "Processes"; packages/core
// README, "Processes and reactions"). Three streams, three deciders, one process:
//   order placed -> reserve stock -> charge the card -> (the gateway captures) -> order completed
//   card refused -> release the stock, cancel the order: the instance ends "compensated"
//   no capture within 15 minutes -> cancel the order and release the stock
// Run it through its test: `npx vitest run --project node examples`.
import {
  ChronicleError,
  createCommandHandler,
  defineDecider,
  defineEvent,
  type EventStore,
  MemoryEventStore,
} from "@chronicle/core";
import {
  createProcessRunner,
  createVirtualClock,
  defineProcess,
  defineReaction,
  MemoryProcessStore,
  type ProcessStore,
  send,
  type VirtualClock,
} from "@chronicle/core/process";
import { z } from "zod";

// ---- events ------------------------------------------------------------------------------------

export const orderPlaced = defineEvent({
  type: "order.placed",
  schema: z.object({
    orderId: z.string(),
    sku: z.string(),
    quantity: z.number().int().positive(),
    amount: z.number().positive(),
    card: z.string(),
  }),
});
export const orderCompleted = defineEvent({
  type: "order.completed",
  schema: z.object({ orderId: z.string() }),
});
export const orderCancelled = defineEvent({
  type: "order.cancelled",
  schema: z.object({ orderId: z.string(), reason: z.string() }),
});
export const stockReceived = defineEvent({
  type: "stock.received",
  schema: z.object({ quantity: z.number().int().positive() }),
});
export const stockReserved = defineEvent({
  type: "stock.reserved",
  schema: z.object({ orderId: z.string(), quantity: z.number().int().positive() }),
});
export const stockReleased = defineEvent({
  type: "stock.released",
  schema: z.object({ orderId: z.string(), quantity: z.number().int().positive() }),
});
export const paymentRequested = defineEvent({
  type: "payment.requested",
  schema: z.object({ orderId: z.string(), amount: z.number(), card: z.string() }),
});
export const paymentCaptured = defineEvent({
  type: "payment.captured",
  schema: z.object({ orderId: z.string() }),
});

// ---- deciders ----------------------------------------------------------------------------------

type OrderStatus = "none" | "placed" | "completed" | "cancelled";

export const order = defineDecider({
  name: "order",
  events: [orderPlaced, orderCompleted, orderCancelled],
  initialState: { status: "none" as OrderStatus },
  evolve: (_state, event): { status: OrderStatus } => {
    switch (event.type) {
      case "order.placed":
        return { status: "placed" };
      case "order.completed":
        return { status: "completed" };
      case "order.cancelled":
        return { status: "cancelled" };
    }
  },
  decide: (
    command:
      | {
          type: "place";
          orderId: string;
          sku: string;
          quantity: number;
          amount: number;
          card: string;
        }
      | { type: "complete"; orderId: string }
      | { type: "cancel"; orderId: string; reason: string },
    state,
  ) => {
    if (command.type === "place") {
      if (state.status !== "none") throw new ChronicleError("conflict", "order already placed");
      const { type: _type, ...data } = command;
      return orderPlaced.create(data);
    }
    if (state.status !== "placed") {
      throw new ChronicleError("conflict", `the order is ${state.status}`);
    }
    return command.type === "complete"
      ? orderCompleted.create({ orderId: command.orderId })
      : orderCancelled.create({ orderId: command.orderId, reason: command.reason });
  },
});

export const stock = defineDecider({
  name: "stock",
  events: [stockReceived, stockReserved, stockReleased],
  initialState: { available: 0, reserved: {} as Record<string, number> },
  evolve: (state, event) => {
    switch (event.type) {
      case "stock.received":
        return { ...state, available: state.available + event.data.quantity };
      case "stock.reserved":
        return {
          available: state.available - event.data.quantity,
          reserved: { ...state.reserved, [event.data.orderId]: event.data.quantity },
        };
      case "stock.released": {
        const { [event.data.orderId]: _released, ...reserved } = state.reserved;
        return { available: state.available + event.data.quantity, reserved };
      }
    }
  },
  decide: (
    command:
      | { type: "receive"; quantity: number }
      | { type: "reserve"; orderId: string; quantity: number }
      | { type: "release"; orderId: string },
    state,
  ) => {
    switch (command.type) {
      case "receive":
        return stockReceived.create({ quantity: command.quantity });
      case "reserve":
        if (state.available < command.quantity) {
          throw new ChronicleError("conflict", `only ${state.available} left`);
        }
        return stockReserved.create({ orderId: command.orderId, quantity: command.quantity });
      case "release": {
        const quantity = state.reserved[command.orderId];
        return quantity === undefined
          ? []
          : stockReleased.create({ orderId: command.orderId, quantity });
      }
    }
  },
});

/** The card the example's bank refuses. */
export const refusedCard = "4000-0000-0000-0002";

export const payment = defineDecider({
  name: "payment",
  events: [paymentRequested, paymentCaptured],
  initialState: { requested: false, captured: false },
  evolve: (state, event) =>
    event.type === "payment.requested"
      ? { ...state, requested: true }
      : { ...state, captured: true },
  decide: (
    command:
      | { type: "charge"; orderId: string; amount: number; card: string }
      | { type: "capture"; orderId: string },
    state,
  ) => {
    if (command.type === "capture") {
      if (!state.requested) throw new ChronicleError("conflict", "nothing to capture");
      return state.captured ? [] : paymentCaptured.create({ orderId: command.orderId });
    }
    if (command.card === refusedCard) throw new ChronicleError("forbidden", "card refused");
    return paymentRequested.create({
      orderId: command.orderId,
      amount: command.amount,
      card: command.card,
    });
  },
});

// ---- the process -------------------------------------------------------------------------------

export const paymentWindowMs = 15 * 60_000;

type Stage = "reserving" | "charging" | "completed" | "expired";

export const orderFulfilment = defineProcess({
  name: "order-fulfilment",
  events: [orderPlaced, stockReserved, paymentCaptured],
  correlate: (event) => event.data.orderId,
  initialState: { stage: "reserving" as Stage, sku: "", amount: 0, card: "" },
  on: {
    "order.placed": (_state, { data }) => ({
      state: { stage: "reserving" as Stage, sku: data.sku, amount: data.amount, card: data.card },
      commands: [
        send(
          stock,
          `stock-${data.sku}`,
          { type: "reserve", orderId: data.orderId, quantity: data.quantity },
          {
            compensate: send(stock, `stock-${data.sku}`, {
              type: "release",
              orderId: data.orderId,
            }),
          },
        ),
      ],
      // If anything later is refused, the order itself is cancelled (last, in reverse order).
      compensate: [
        send(order, `order-${data.orderId}`, {
          type: "cancel",
          orderId: data.orderId,
          reason: "could not be fulfilled",
        }),
      ],
      schedule: [{ name: "payment-due", after: paymentWindowMs }],
    }),
    "stock.reserved": (state, { data }) => ({
      state: { ...state, stage: "charging" as Stage },
      commands: [
        send(payment, `payment-${data.orderId}`, {
          type: "charge",
          orderId: data.orderId,
          amount: state.amount,
          card: state.card,
        }),
      ],
    }),
    "payment.captured": (state, { data }) => ({
      state: { ...state, stage: "completed" as Stage },
      commands: [send(order, `order-${data.orderId}`, { type: "complete", orderId: data.orderId })],
      cancel: ["payment-due"],
      done: true,
    }),
  },
  timeouts: {
    "payment-due": (state, _timeout, { instance }) => ({
      state: { ...state, stage: "expired" as Stage },
      commands: [
        send(order, `order-${instance}`, {
          type: "cancel",
          orderId: instance,
          reason: "not paid within 15 minutes",
        }),
        send(stock, `stock-${state.sku}`, { type: "release", orderId: instance }),
      ],
      done: true,
    }),
  },
});

// ---- wiring ------------------------------------------------------------------------------------

/** Mails a receipt for every completed order (a side effect: a reaction, not a process). */
export function receiptMailer(outbox: { orderId: string; idempotencyKey: string }[]) {
  return defineReaction({
    name: "receipt-mailer",
    events: [orderCompleted],
    handle: (event, { idempotencyKey }) => {
      outbox.push({ orderId: event.data.orderId, idempotencyKey });
    },
    retry: { maxAttempts: 5, backoffMs: 1000 },
  });
}

/**
 * A shop over an event store: place orders, capture payments (the gateway's callback), receive
 * stock, and a runner that drives the fulfilment process.
 */
export function createShop(
  options: { store?: EventStore; processStore?: ProcessStore; clock?: VirtualClock } = {},
) {
  const clock = options.clock ?? createVirtualClock(Date.UTC(2025, 0, 1));
  const store = options.store ?? new MemoryEventStore({ now: () => clock.now() });
  const processStore = options.processStore ?? new MemoryProcessStore();
  const mails: { orderId: string; idempotencyKey: string }[] = [];
  const context = { actor: "shop", device: "example", now: () => clock.now() };
  const runner = createProcessRunner({
    store,
    processStore,
    clock,
    deciders: [order, stock, payment],
    processes: [orderFulfilment],
    reactions: [receiptMailer(mails)],
    actor: "order-fulfilment",
  });
  return {
    store,
    processStore,
    clock,
    runner,
    mails,
    receiveStock: (sku: string, quantity: number) =>
      createCommandHandler(store, stock, { context })(`stock-${sku}`, {
        type: "receive",
        quantity,
      }),
    placeOrder: (
      orderId: string,
      line: { sku: string; quantity: number; amount: number; card: string },
    ) =>
      createCommandHandler(store, order, { context })(`order-${orderId}`, {
        type: "place",
        orderId,
        ...line,
      }),
    capturePayment: (orderId: string) =>
      createCommandHandler(store, payment, { context })(`payment-${orderId}`, {
        type: "capture",
        orderId,
      }),
  };
}

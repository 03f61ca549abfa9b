// internal: test fixture. A small shop: orders, stock, payments, and the fulfilment process.
import { z } from "zod";
import { defineDecider } from "../../decider/define-decider.ts";
import { ChronicleError } from "../../errors.ts";
import { defineEvent } from "../../events/define-event.ts";
import { defineProcess, send } from "../process-definition.ts";

export const orderPlaced = defineEvent({
  type: "order.placed",
  schema: z.object({
    orderId: z.string(),
    sku: z.string(),
    quantity: z.number(),
    amount: z.number(),
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
export const stockAdded = defineEvent({
  type: "stock.added",
  schema: z.object({ quantity: z.number() }),
});
export const stockReserved = defineEvent({
  type: "stock.reserved",
  schema: z.object({ orderId: z.string(), quantity: z.number() }),
});
export const stockReleased = defineEvent({
  type: "stock.released",
  schema: z.object({ orderId: z.string(), quantity: z.number() }),
});
export const paymentRequested = defineEvent({
  type: "payment.requested",
  schema: z.object({ orderId: z.string(), amount: z.number() }),
});
export const paymentCaptured = defineEvent({
  type: "payment.captured",
  schema: z.object({ orderId: z.string() }),
});

export const order = defineDecider({
  name: "order",
  events: [orderPlaced, orderCompleted, orderCancelled],
  initialState: { status: "none" as "none" | "placed" | "completed" | "cancelled" },
  evolve: (_state, event) => ({
    status: (event.type === "order.placed"
      ? "placed"
      : event.type === "order.completed"
        ? "completed"
        : "cancelled") as "none" | "placed" | "completed" | "cancelled",
  }),
  decide: (
    command:
      | { type: "place"; orderId: string; sku: string; quantity: number; amount: number }
      | { type: "complete"; orderId: string }
      | { type: "cancel"; orderId: string; reason: string },
    state,
  ) => {
    switch (command.type) {
      case "place": {
        const { type: _type, ...data } = command;
        return orderPlaced.create(data);
      }
      case "complete":
        if (state.status !== "placed")
          throw new ChronicleError("conflict", `order is ${state.status}`);
        return orderCompleted.create({ orderId: command.orderId });
      case "cancel":
        if (state.status !== "placed")
          throw new ChronicleError("conflict", `order is ${state.status}`);
        return orderCancelled.create({ orderId: command.orderId, reason: command.reason });
    }
  },
});

export const stock = defineDecider({
  name: "stock",
  events: [stockAdded, stockReserved, stockReleased],
  initialState: { available: 0, reserved: {} as Record<string, number> },
  evolve: (state, event) => {
    switch (event.type) {
      case "stock.added":
        return { ...state, available: state.available + event.data.quantity };
      case "stock.reserved":
        return {
          available: state.available - event.data.quantity,
          reserved: { ...state.reserved, [event.data.orderId]: event.data.quantity },
        };
      case "stock.released": {
        const { [event.data.orderId]: _gone, ...reserved } = state.reserved;
        return { available: state.available + event.data.quantity, reserved };
      }
    }
  },
  decide: (
    command:
      | { type: "add"; quantity: number }
      | { type: "reserve"; orderId: string; quantity: number }
      | { type: "release"; orderId: string },
    state,
  ) => {
    switch (command.type) {
      case "add":
        return stockAdded.create({ quantity: command.quantity });
      case "reserve":
        if (state.available < command.quantity) {
          throw new ChronicleError("conflict", `only ${state.available} in stock`);
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

/** Cards are refused above this amount. */
export const cardLimit = 100;

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
      | { type: "charge"; orderId: string; amount: number }
      | { type: "capture"; orderId: string },
    state,
  ) => {
    if (command.type === "capture") return paymentCaptured.create({ orderId: command.orderId });
    if (command.amount > cardLimit) throw new ChronicleError("forbidden", "card refused");
    if (state.requested) return [];
    return paymentRequested.create({ orderId: command.orderId, amount: command.amount });
  },
});

export const paymentWindowMs = 15 * 60_000;

export const fulfilment = defineProcess({
  name: "order-fulfilment",
  events: [orderPlaced, stockReserved, paymentCaptured],
  correlate: (event) => event.data.orderId,
  initialState: {
    stage: "new" as "new" | "reserving" | "charging" | "completed" | "expired",
    sku: "",
    amount: 0,
  },
  on: {
    "order.placed": (_state, event, _context) => ({
      state: { stage: "reserving" as const, sku: event.data.sku, amount: event.data.amount },
      commands: [
        send(
          stock,
          `stock-${event.data.sku}`,
          { type: "reserve", orderId: event.data.orderId, quantity: event.data.quantity },
          {
            compensate: send(stock, `stock-${event.data.sku}`, {
              type: "release",
              orderId: event.data.orderId,
            }),
          },
        ),
      ],
      compensate: [
        send(order, `order-${event.data.orderId}`, {
          type: "cancel",
          orderId: event.data.orderId,
          reason: "not fulfilled",
        }),
      ],
      schedule: [{ name: "payment-due", after: paymentWindowMs }],
    }),
    "stock.reserved": (state, event) => ({
      state: { ...state, stage: "charging" as const },
      commands: [
        send(payment, `payment-${event.data.orderId}`, {
          type: "charge",
          orderId: event.data.orderId,
          amount: state.amount,
        }),
      ],
    }),
    "payment.captured": (state, event) => ({
      state: { ...state, stage: "completed" as const },
      commands: [
        send(order, `order-${event.data.orderId}`, {
          type: "complete",
          orderId: event.data.orderId,
        }),
      ],
      cancel: ["payment-due"],
      done: true,
    }),
  },
  timeouts: {
    "payment-due": (state, _timeout, { instance }) => ({
      state: { ...state, stage: "expired" as const },
      commands: [
        send(order, `order-${instance}`, {
          type: "cancel",
          orderId: instance,
          reason: "payment timed out",
        }),
        send(stock, `stock-${state.sku}`, { type: "release", orderId: instance }),
      ],
      done: true,
    }),
  },
});

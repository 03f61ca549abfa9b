// internal: not exported. A small shop for the process tests of the browser host: orders, stock,
// payments, the fulfilment process (self-driving unless the order is paid by hand) and a
// receipts reaction. `probes` let a test see process commands being decided and reaction calls.
import { ChronicleError, defineDecider, defineEvent } from "@chronicle/core";
import { defineProcess, defineReaction, send } from "@chronicle/core/process";
import { z } from "zod";

export const probes: {
  /** Called when a command a process sent is decided (reserve, release, charge, complete, cancel). */
  onProcessCommand?: ((type: string) => void) | undefined;
  /** Called on every call of the receipts reaction. */
  onReceipt?: ((orderId: string, attempt: number) => void) | undefined;
} = {};

export const orderPlaced = defineEvent({
  type: "order.placed",
  schema: z.object({
    orderId: z.string(),
    sku: z.string(),
    quantity: z.number(),
    amount: z.number(),
    /** The length of the payment request's memo (a long one makes it too large for a node). */
    paymentMemoLength: z.number(),
    /** The app pays by hand (`pay`); otherwise the process charges at once. */
    manual: z.boolean(),
    /** How many times the receipts reaction fails before it succeeds. */
    receiptFailures: z.number(),
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
  schema: z.object({ orderId: z.string(), amount: z.number(), memo: z.string() }),
});

type OrderStatus = "none" | "placed" | "completed" | "cancelled";

export const order = defineDecider({
  name: "order",
  events: [orderPlaced, orderCompleted, orderCancelled],
  initialState: { status: "none" as OrderStatus },
  evolve: (_state, event) => ({
    status: (event.type === "order.placed"
      ? "placed"
      : event.type === "order.completed"
        ? "completed"
        : "cancelled") as OrderStatus,
  }),
  decide: (
    command:
      | {
          type: "place";
          orderId: string;
          sku: string;
          quantity: number;
          amount: number;
          paymentMemoLength?: number;
          manual?: boolean;
          receiptFailures?: number;
        }
      | { type: "complete"; orderId: string }
      | { type: "cancel"; orderId: string; reason: string },
    state,
  ) => {
    if (command.type !== "place") probes.onProcessCommand?.(command.type);
    switch (command.type) {
      case "place": {
        const { type: _type, paymentMemoLength, manual, receiptFailures, ...data } = command;
        return orderPlaced.create({
          ...data,
          paymentMemoLength: paymentMemoLength ?? 0,
          manual: manual ?? false,
          receiptFailures: receiptFailures ?? 0,
        });
      }
      case "complete":
        if (state.status !== "placed") {
          throw new ChronicleError("conflict", `order is ${state.status}`);
        }
        return orderCompleted.create({ orderId: command.orderId });
      case "cancel":
        if (state.status !== "placed") {
          throw new ChronicleError("conflict", `order is ${state.status}`);
        }
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
    if (command.type !== "add") probes.onProcessCommand?.(command.type);
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
  events: [paymentRequested],
  initialState: { requested: false },
  evolve: () => ({ requested: true }),
  decide: (
    command:
      | { type: "charge"; orderId: string; amount: number; memo: string }
      | { type: "pay"; orderId: string; amount: number },
    state,
  ) => {
    if (command.type === "charge") probes.onProcessCommand?.(command.type);
    if (command.amount > cardLimit) throw new ChronicleError("forbidden", "card refused");
    if (state.requested) return [];
    return paymentRequested.create({
      orderId: command.orderId,
      amount: command.amount,
      memo: command.type === "charge" ? command.memo : "",
    });
  },
});

export const paymentWindowMs = 15 * 60_000;

export const fulfilment = defineProcess({
  name: "order-fulfilment",
  events: [orderPlaced, stockReserved, paymentRequested],
  correlate: (event) => event.data.orderId,
  initialState: {
    stage: "new" as "new" | "reserving" | "charging" | "completed" | "expired",
    sku: "",
    amount: 0,
    memo: "",
    manual: false,
  },
  on: {
    "order.placed": (_state, event) => ({
      state: {
        stage: "reserving" as const,
        sku: event.data.sku,
        amount: event.data.amount,
        memo: "".padEnd(event.data.paymentMemoLength, "m"),
        manual: event.data.manual,
      },
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
      commands: state.manual
        ? []
        : [
            send(payment, `payment-${event.data.orderId}`, {
              type: "charge",
              orderId: event.data.orderId,
              amount: state.amount,
              memo: state.memo,
            }),
          ],
    }),
    "payment.requested": (state, event) => ({
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

export const receipts = defineReaction({
  name: "receipts",
  events: [orderPlaced],
  retry: { maxAttempts: 3, backoffMs: 20 },
  handle: (event, { attempt }) => {
    probes.onReceipt?.(event.data.orderId, attempt);
    if (attempt <= event.data.receiptFailures) {
      throw new Error(`receipt for ${event.data.orderId} failed (attempt ${attempt})`);
    }
  },
});

/** The shop's definitions, as `hostChronicle` takes them. */
export const shopApp = {
  deciders: [order, stock, payment],
  processes: [fulfilment],
  reactions: [receipts],
};

// internal: not exported. What a device of the order example (examples/order-fulfilment.ts)
// hosts in the browser: the example's deciders and a projection of the order's status. The
// process itself runs on the node (worker/test/processes-node.ts), not on the devices.
import { defineProjection } from "@chronicle/core";
import {
  order,
  orderCancelled,
  orderCompleted,
  orderPlaced,
  payment,
  stock,
} from "../../examples/order-fulfilment.ts";

type Status = "none" | "placed" | "completed" | "cancelled";

/** The order as a device shows it: its status and, once cancelled, why. */
export const orderStatus = defineProjection({
  name: "order-status",
  events: [orderPlaced, orderCompleted, orderCancelled],
  initialState: { status: "none" as Status, reason: undefined as string | undefined },
  handlers: {
    "order.placed": (state) => ({ ...state, status: "placed" as Status }),
    "order.completed": (state) => ({ ...state, status: "completed" as Status }),
    "order.cancelled": (_state, { data }) => ({
      status: "cancelled" as Status,
      reason: data.reason,
    }),
  },
});

/** The devices' app: the example's deciders (no process: the node runs it). */
export const orderDeviceApp = { deciders: [order, stock, payment], projections: [orderStatus] };

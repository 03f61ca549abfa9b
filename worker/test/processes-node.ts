// internal: test fixture. The sync node of the process e2e tests
// (test/sync-node/process-*.e2e.test.ts): the repository's node with the order-fulfilment
// example's process, reaction and deciders (examples/order-fulfilment.ts), as an app passes them.
// Its own entry and wrangler config (processes-node.wrangler.toml), so the demo's node
// (worker/main.ts) stays as it is.
import type { Clock } from "@chronicle/core/process";
import {
  order,
  orderFulfilment,
  payment,
  receiptMailer,
  stock,
} from "../../examples/order-fulfilment.ts";
import { createSyncNode, ProcessHost, StreamDirectory, StreamLog } from "../src/index.ts";

export { ProcessHost, StreamDirectory, StreamLog };

/** How far the processes' clock is ahead of the wall clock (moved by POST /test/clock). */
let aheadMs = 0;
const clock: Clock = {
  now: () => Date.now() + aheadMs,
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

const app = createSyncNode({
  processes: [orderFulfilment],
  // Receipts go nowhere here (each isolate has its own list): the reaction's checkpoint and
  // dead letters are what the tests read.
  reactions: [receiptMailer([])],
  deciders: [order, stock, payment],
  processClock: clock,
});

// Test hook of this entry only: moves the processes' clock `advanceMs` ahead, then wakes the
// process host as its alarm would at the deadline (a wall-clock alarm cannot follow a clock that
// jumps). The Worker and the objects share this module in `wrangler dev` (one isolate).
app.post("/test/clock", async (c) => {
  const { advanceMs } = (await c.req.json()) as { advanceMs: number };
  aheadMs += advanceMs;
  const key = "process:order-fulfilment";
  const host = c.env.PROCESS_HOST!.get(c.env.PROCESS_HOST!.idFromName(key));
  const woken = await host.feed(key, []);
  return c.json({ aheadMs, woken: woken.ok });
});

export default app;

// internal: test fixture. The sync node of the process e2e tests
// (test/sync-node/process-*.e2e.test.ts): the repository's node with the order-fulfilment
// example's process, reaction and deciders (examples/order-fulfilment.ts), as an app passes them. Its own entry and wrangler config (processes-node.wrangler.toml), so the
// demo's node (worker/main.ts) stays as it is.
import {
  order,
  orderFulfilment,
  payment,
  receiptMailer,
  stock,
} from "../../examples/order-fulfilment.ts";
import { createSyncNode, ProcessHost, StreamDirectory, StreamLog } from "../src/index.ts";

export { ProcessHost, StreamDirectory, StreamLog };
export default createSyncNode({
  processes: [orderFulfilment],
  // Receipts go nowhere here (each isolate has its own list): the reaction's checkpoint and
  // dead letters are what the tests read.
  reactions: [receiptMailer([])],
  deciders: [order, stock, payment],
});

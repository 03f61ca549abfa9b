// Browser tier, end to end with the real node (`wrangler dev`, the browser config's global
// setup): a process in a synced host sends commands as pending events with deterministic ids;
// the node accepts one order's and refuses the other's payment request (too large), and that
// instance compensates in reverse order after the sync; the compensations reach the node too.
import type { SyncStatus } from "@chronicle/core";
import type { ProcessInstance } from "@chronicle/core/process";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { expect, inject, it } from "vitest";
import { order, shopApp, stock } from "../__fixtures__/shop.ts";
import { hostChronicle } from "../worker/host.ts";
import type { Chronicle } from "./chronicle-types.ts";
import { createChronicle } from "./create-chronicle.ts";

// Provided by test/browser-sync/global-setup.ts (declared there too, for the setup's program).
declare module "vitest" {
  export interface ProvidedContext {
    syncNode: { url: string; tokens: { alice: string; bob: string } };
  }
}

const run = crypto.randomUUID().slice(0, 8);
const sku = `apple-${run}`;
const ok = `ok-${run}`;
const big = `big-${run}`;
const streams = [`stock-${sku}`, `order-${ok}`, `payment-${ok}`, `order-${big}`, `payment-${big}`];

function until(chronicle: Chronicle, check: (list: ProcessInstance[]) => boolean) {
  return new Promise<ProcessInstance[]>((resolve, reject) => {
    let done = false;
    const test = () =>
      chronicle.processes.list().then((list) => {
        if (done || !check(list)) return;
        done = true;
        stop();
        resolve(list);
      }, reject);
    const stop = chronicle.processes.onChange(() => void test());
    void test();
  });
}

function synced(chronicle: Chronicle, stream: string, head: number) {
  return new Promise<SyncStatus>((resolve) => {
    const off = chronicle.onSyncStatus(stream, (status) => {
      if (status.state !== "synced" || status.pending !== 0 || status.confirmedHead !== head) {
        return;
      }
      queueMicrotask(() => off());
      resolve(status);
    });
  });
}

it("an instance whose event the node refuses compensates after the sync; the other order completes", async () => {
  const { url, tokens } = inject("syncNode");
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: `processes-sync-${run}`,
      ...shopApp,
      actor: "alice",
      sync: createSyncStarter({
        transport: createWebSocketTransport({ url, token: tokens.alice }),
        streams,
        followNetwork: false,
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  const rejected: string[] = [];
  chronicle.onRejected((notice) => rejected.push(notice.code));
  await chronicle.execute(`stock-${sku}`, stock, { type: "add", quantity: 2 });
  const place = (orderId: string, paymentMemoLength: number) =>
    chronicle.execute(`order-${orderId}`, order, {
      type: "place",
      orderId,
      sku,
      quantity: 1,
      amount: 50,
      paymentMemoLength,
    });
  await place(ok, 100);
  // The node refuses events over 64 KiB: this order's payment request carries a 70,000-char memo.
  await place(big, 70_000);

  const instances = await until(
    chronicle,
    (list) =>
      list.length === 2 &&
      list.every((instance) => instance.outbox.length === 0) &&
      list.some((instance) => instance.id === ok && instance.status === "done") &&
      list.some((instance) => instance.id === big && instance.status === "compensated"),
  );
  const refused = instances.find((instance) => instance.id === big)!;
  expect(refused.compensation?.reason).toMatchObject({ code: "too-large", outboxId: "2.0" });
  expect(rejected).toContain("too-large");

  // What the node holds: the completed order, and the refused one's compensations in reverse
  // order (stock released, then the order cancelled); no payment request for it.
  await synced(chronicle, `order-${big}`, 2);
  await synced(chronicle, `order-${ok}`, 2);
  await synced(chronicle, `stock-${sku}`, 4);
  const types = async (stream: string) =>
    (await chronicle.readStream(stream)).map((event) => event.type);
  expect(await types(`order-${ok}`)).toEqual(["order.placed", "order.completed"]);
  expect(await types(`order-${big}`)).toEqual(["order.placed", "order.cancelled"]);
  expect(await types(`payment-${big}`)).toEqual([]);
  const stockLog = await chronicle.readStream(`stock-${sku}`);
  expect(stockLog.map((event) => event.type).sort()).toEqual([
    "stock.added",
    "stock.released",
    "stock.reserved",
    "stock.reserved",
  ]);
  // The events the process wrote carry the ids its history names (deterministic ids).
  const delivered = refused.history.flatMap((line) =>
    line.kind === "delivered" && line.stream === `stock-${sku}` ? line.eventIds : [],
  );
  expect(delivered).toHaveLength(2); // reserved, then released
  for (const id of delivered) expect(stockLog.some((event) => event.id === id)).toBe(true);
  await chronicle.close();
});

// Browser tier, end to end: the order-fulfilment example (examples/order-fulfilment.ts) on a real
// node (`wrangler dev`, worker/test/processes-node.ts, started by the browser config's
// test/browser-sync/process-node.global-setup.ts) with two real browser devices: two Chronicle
// hosts, each its own IndexedDB database, syncing the order's stream over WebSockets. The till
// (device A) places the order; the process on the node reserves stock and charges the card; the
// gateway's callback (a command from device B) captures; both devices' views of the order end
// completed (happy path), cancelled with the instance compensated (card refused), or cancelled
// when nobody pays within 15 minutes (the node's process clock moved ahead: timeout).
// docs/architecture.md, "Processes", "On the sync node".

import { type Chronicle, createChronicle } from "@chronicle/browser";
import { hostChronicle } from "@chronicle/browser/worker";
import type { SyncStatus } from "@chronicle/core";
import type { ProcessInstance } from "@chronicle/core/process";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { afterEach, describe, expect, inject, it } from "vitest";
import {
  order,
  payment,
  paymentWindowMs,
  refusedCard,
  stock,
} from "../../examples/order-fulfilment.ts";
import { orderDeviceApp, orderStatus } from "./order-devices.ts";

// `inject("processNode")`: test/browser-sync/process-node.global-setup.ts provides (and declares) it.

const run = crypto.randomUUID().slice(0, 8);
const card = "4242-4242-4242-4242";
const open: Chronicle[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((chronicle) => chronicle.close()));
});

/** A device: its own host and database, syncing `streams` with the processes node. */
async function device(name: string, token: string, streams: string[]): Promise<Chronicle> {
  const { url } = inject("processNode");
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: `order-devices-${name}-${run}`,
      ...orderDeviceApp,
      actor: name,
      sync: createSyncStarter({
        transport: createWebSocketTransport({ url, token }),
        streams,
        followNetwork: false,
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  open.push(chronicle);
  return chronicle;
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

/** Resolves with the device's view of the order once `check` holds (a subscription, no sleep). */
function view(chronicle: Chronicle, stream: string, status: string) {
  return new Promise<{ status: string; reason?: string | undefined }>((resolve) => {
    let done = false;
    const off = chronicle.subscribe(orderStatus, stream, (state) => {
      if (done || state.status !== status) return;
      done = true;
      queueMicrotask(() => off());
      resolve(state);
    });
  });
}

async function instance(id: string): Promise<ProcessInstance | undefined> {
  const { url, tokens } = inject("processNode");
  const response = await fetch(`${url}/v1/processes/order-fulfilment/${id}`, {
    headers: { Authorization: `Bearer ${tokens.till}` },
  });
  if (response.status === 404) return undefined;
  return ((await response.json()) as { instance: ProcessInstance }).instance;
}

const types = async (chronicle: Chronicle, stream: string) =>
  (await chronicle.readStream(stream)).map((event) => event.type);

/**
 * The till (device A) stocks the shelf and places the order; device B (ops, also the gateway's
 * callback) watches the order and the payment. Both see the order placed.
 */
async function placeOrder(name: string, cardNumber: string) {
  const { tokens } = inject("processNode");
  const id = `${name}-${run}`;
  const sku = `sku-${id}`;
  const stream = `order-${id}`;
  const till = await device(`till-${name}`, tokens.till, [stream, `stock-${sku}`]);
  const ops = await device(`ops-${name}`, tokens.ops, [stream, `payment-${id}`]);
  await till.execute(`stock-${sku}`, stock, { type: "receive", quantity: 5 });
  // The shelf is on the node before the order reaches it (the process reserves there).
  await synced(till, `stock-${sku}`, 1);
  await till.execute(stream, order, {
    type: "place",
    orderId: id,
    sku,
    quantity: 1,
    amount: 9,
    card: cardNumber,
  });
  await Promise.all([view(till, stream, "placed"), view(ops, stream, "placed")]);
  return { id, sku, stream, till, ops };
}

describe("the order example on a real node, two browser devices watching", () => {
  it("happy path: the gateway's capture from device B; both devices see the order completed", async () => {
    const { id, stream, till, ops } = await placeOrder("happy", card);
    const completed = Promise.all([
      view(till, stream, "completed"),
      view(ops, stream, "completed"),
    ]);
    // The gateway's callback captures once the node's process has charged the card.
    await expect.poll(() => types(ops, `payment-${id}`)).toEqual(["payment.requested"]);
    await ops.execute(`payment-${id}`, payment, { type: "capture", orderId: id });

    expect(await completed).toEqual([{ status: "completed" }, { status: "completed" }]);
    for (const chronicle of [till, ops]) {
      await synced(chronicle, stream, 2);
      const events = await chronicle.readStream(stream);
      expect(events.map((event) => event.type)).toEqual(["order.placed", "order.completed"]);
      expect(events[1]!.meta.actor).toBe("chronicle-node");
    }
    await expect.poll(async () => (await instance(id))?.status).toBe("done");
  });

  it("card refused: both devices see the order cancelled; the instance compensated", async () => {
    const { id, sku, stream, till, ops } = await placeOrder("refused", refusedCard);
    const views = await Promise.all([
      view(till, stream, "cancelled"),
      view(ops, stream, "cancelled"),
    ]);
    for (const state of views) expect(state.reason).toBe("could not be fulfilled");
    await synced(till, `stock-${sku}`, 3);
    expect(await types(till, `stock-${sku}`)).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await types(ops, `payment-${id}`)).toEqual([]);
    await expect.poll(async () => (await instance(id))?.status).toBe("compensated");
  });

  it("payment timeout: both devices see the order cancelled after 15 minutes", async () => {
    const { url } = inject("processNode");
    const { id, sku, stream, till, ops } = await placeOrder("late", card);
    await expect
      .poll(async () => {
        const found = await instance(id);
        return found?.status === "waiting" && found.outbox.length === 0 ? found.step : 0;
      })
      .toBe(2);
    const cancelled = Promise.all([
      view(till, stream, "cancelled"),
      view(ops, stream, "cancelled"),
    ]);
    const response = await fetch(`${url}/test/clock`, {
      method: "POST",
      body: JSON.stringify({ advanceMs: paymentWindowMs }),
    });
    expect(await response.json()).toMatchObject({ woken: true });
    for (const state of await cancelled) expect(state.reason).toBe("not paid within 15 minutes");
    await synced(till, `stock-${sku}`, 3);
    expect(await types(till, `stock-${sku}`)).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await instance(id)).toMatchObject({ status: "done", state: { stage: "expired" } });
  });
});

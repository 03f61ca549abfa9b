import { describe, expect, it } from "vitest";
import { createShop, paymentWindowMs, refusedCard } from "./order-fulfilment.ts";

const card = "4242-4242-4242-4242";

async function types(shop: ReturnType<typeof createShop>, stream: string) {
  return (await shop.store.readStream(stream)).map((event) => event.type);
}

describe("order fulfilment example", () => {
  it("happy path: placed, stock reserved, card charged, captured, completed, receipt mailed", async () => {
    const shop = createShop();
    await shop.receiveStock("tea", 10);
    await shop.placeOrder("o-1", { sku: "tea", quantity: 2, amount: 12, card });
    await shop.runner.drain();
    expect(await types(shop, "stock-tea")).toEqual(["stock.received", "stock.reserved"]);
    expect(await types(shop, "payment-o-1")).toEqual(["payment.requested"]);
    expect(await shop.runner.get("order-fulfilment", "o-1")).toMatchObject({
      status: "waiting",
      state: { stage: "charging" },
    });

    await shop.capturePayment("o-1");
    await shop.runner.drain();
    expect(await types(shop, "order-o-1")).toEqual(["order.placed", "order.completed"]);
    const instance = await shop.runner.get("order-fulfilment", "o-1");
    expect(instance).toMatchObject({ status: "done", deadlines: [], outbox: [] });
    expect(shop.mails).toEqual([{ orderId: "o-1", idempotencyKey: expect.any(String) }]);
  });

  it("refused card: the stock is released and the order cancelled, the instance compensated", async () => {
    const shop = createShop();
    await shop.receiveStock("tea", 10);
    await shop.placeOrder("o-2", { sku: "tea", quantity: 3, amount: 18, card: refusedCard });
    await shop.runner.drain();
    expect(await types(shop, "payment-o-2")).toEqual([]);
    expect(await types(shop, "stock-tea")).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await types(shop, "order-o-2")).toEqual(["order.placed", "order.cancelled"]);
    const instance = await shop.runner.get("order-fulfilment", "o-2");
    expect(instance?.status).toBe("compensated");
    expect(instance?.compensation?.reason).toMatchObject({
      code: "forbidden",
      message: "card refused",
    });
    expect(shop.mails).toEqual([]);
  });

  it("timeout: no payment within 15 minutes cancels the order, even across a restart", async () => {
    const shop = createShop();
    await shop.receiveStock("tea", 1);
    await shop.placeOrder("o-3", { sku: "tea", quantity: 1, amount: 6, card });
    await shop.runner.drain();
    shop.clock.advance(paymentWindowMs - 1);
    await shop.runner.drain();
    expect(await types(shop, "order-o-3")).toEqual(["order.placed"]);

    // The host restarts while the deadline passes: a new shop over the same stores fires it.
    shop.clock.advance(1);
    const restarted = createShop({
      store: shop.store,
      processStore: shop.processStore,
      clock: shop.clock,
    });
    await restarted.runner.drain();
    expect(await types(shop, "order-o-3")).toEqual(["order.placed", "order.cancelled"]);
    expect(await types(shop, "stock-tea")).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await restarted.runner.get("order-fulfilment", "o-3")).toMatchObject({
      status: "done",
      state: { stage: "expired" },
    });
  });
});

// Browser tier: processes and reactions in real module workers over Chromium's IndexedDB, with
// Web Locks electing the leader. Crash injection: the worker is terminated in the middle of a
// process command's delivery (it spins in `decide` when armed) or right after the k-th write of
// the process store (heard on its BroadcastChannel); a new worker then finishes every instance
// with every command applied once. A deadline that passed while the app was closed fires on the
// next start; reactions retry and dead-letter.
import { createCommandHandler } from "@chronicle/core";
import type { ProcessInstance } from "@chronicle/core/process";
import { describe, expect, it } from "vitest";
import { connect, type TestChronicle } from "../__fixtures__/connect.ts";
import { order, paymentWindowMs, stock } from "../__fixtures__/shop.ts";
import type { Chronicle } from "../main/chronicle-types.ts";
import { DexieProcessStore } from "../store/dexie-process-store.ts";
import { DexieEventStore } from "../store/dexie-store.ts";

const run = crypto.randomUUID().slice(0, 8);
let databases = 0;
const freshName = (label: string) => `shop-${label}-${run}-${++databases}`;

function shopWorker(): Worker {
  return new Worker(new URL("../__fixtures__/shop.worker.ts", import.meta.url), { type: "module" });
}

/** Opens the shop in a new worker; `crashAt` arms the k-th process command to hang. */
async function openShop(
  name: string,
  setup: { crashAt?: number; clockOffset?: number } = {},
): Promise<TestChronicle> {
  const worker = shopWorker();
  if (setup.clockOffset !== undefined) {
    worker.postMessage({ probe: "clock", offset: setup.clockOffset });
  }
  if (setup.crashAt !== undefined) worker.postMessage({ probe: "crash-at", at: setup.crashAt });
  return connect(name, worker);
}

/** Writes stock and orders straight into the database, before any worker runs processes. */
async function seed(name: string, orders: string[], extra: Record<string, unknown> = {}) {
  const store = new DexieEventStore({ name });
  const context = { context: { actor: "tester", device: "page" } };
  await createCommandHandler(
    store,
    stock,
    context,
  )("stock-apple", {
    type: "add",
    quantity: orders.length,
  });
  for (const orderId of orders) {
    await createCommandHandler(
      store,
      order,
      context,
    )(`order-${orderId}`, {
      type: "place",
      orderId,
      sku: "apple",
      quantity: 1,
      amount: 50,
      ...extra,
    });
  }
  await store.close();
}

/** Resolves with the instances once `check` holds (now or after a later process write). */
function until(
  chronicle: Chronicle,
  check: (instances: ProcessInstance[]) => boolean,
): Promise<ProcessInstance[]> {
  return new Promise((resolve, reject) => {
    let done = false;
    const test = () =>
      chronicle.processes.list().then((instances) => {
        if (done || !check(instances)) return;
        done = true;
        stop();
        resolve(instances);
      }, reject);
    const stop = chronicle.processes.onChange(() => void test());
    void test();
  });
}

const finished =
  (count: number, status = "done") =>
  (instances: ProcessInstance[]) =>
    instances.length === count &&
    instances.every((instance) => instance.status === status && instance.outbox.length === 0);

async function types(name: string, stream: string): Promise<string[]> {
  const store = new DexieEventStore({ name, broadcast: false });
  try {
    return (await store.readStream(stream)).map((event) => event.type);
  } finally {
    await store.close();
  }
}

/** Every order completed, each command applied once: two reservations, one payment each. */
async function expectEachCommandOnce(name: string, orders: string[]) {
  expect(await types(name, "stock-apple")).toEqual([
    "stock.added",
    ...orders.map(() => "stock.reserved"),
  ]);
  for (const orderId of orders) {
    expect(await types(name, `payment-${orderId}`)).toEqual(["payment.requested"]);
    expect(await types(name, `order-${orderId}`)).toEqual(["order.placed", "order.completed"]);
  }
}

const orders = ["o1", "o2"];
// Two orders, three process commands each (reserve, charge, complete).
const commands = orders.length * 3;

describe("processes in the browser host", () => {
  it("runs both orders to completion in the leader's worker, visible through chronicle.processes", async () => {
    const name = freshName("happy");
    await seed(name, orders);
    const shop = await openShop(name);
    const instances = await until(shop.chronicle, finished(2));
    expect(instances.map((instance) => instance.id)).toEqual(orders);
    expect(await shop.chronicle.processes.get("order-fulfilment", "o1")).toMatchObject({
      status: "done",
      state: { stage: "completed" },
    });
    await expectEachCommandOnce(name, orders);
    await shop.chronicle.close();
  });

  it.each(Array.from({ length: commands }, (_, k) => k + 1))(
    "a worker terminated while delivering process command %i: the next worker finishes every instance, each command once",
    async (crashAt) => {
      const name = freshName(`crash-${crashAt}`);
      await seed(name, orders);
      const first = await openShop(name, { crashAt });
      await new Promise<void>((resolve) => {
        first.worker.addEventListener("message", (message: MessageEvent) => {
          if (message.data?.probe !== "crashing") return;
          first.worker.terminate();
          resolve();
        });
      });
      const second = await openShop(name);
      await until(second.chronicle, finished(2));
      await expectEachCommandOnce(name, orders);
      await second.chronicle.close();
    },
  );

  it.each(Array.from({ length: 8 }, (_, k) => k + 1))(
    "a worker terminated after the process store's write %i: the next worker finishes every instance, each command once",
    async (writes) => {
      const name = freshName(`crash-write-${writes}`);
      await seed(name, orders);
      const channel = new BroadcastChannel(`chronicle-processes:${name}`);
      const first = await openShop(name);
      let heard = 0;
      await new Promise<void>((resolve) => {
        channel.onmessage = () => {
          if (++heard !== writes) return;
          first.worker.terminate();
          resolve();
        };
      });
      channel.close();
      const second = await openShop(name);
      await until(second.chronicle, finished(2));
      await expectEachCommandOnce(name, orders);
      await second.chronicle.close();
    },
  );

  it("when the leader tab's worker dies, the tab waiting for leadership resumes the processes", async () => {
    const name = freshName("failover");
    await seed(name, orders);
    const leader = await openShop(name, { crashAt: 2 });
    const crashing = new Promise<void>((resolve) => {
      leader.worker.addEventListener("message", (message: MessageEvent) => {
        if (message.data?.probe !== "crashing") return;
        resolve();
      });
    });
    const follower = await openShop(name);
    expect(await follower.chronicle.diagnostics()).toMatchObject({ leader: false });
    await crashing;
    // A tab that does not lead reads the instances the leader wrote.
    expect((await follower.chronicle.processes.list()).map((instance) => instance.id)).toEqual(
      orders,
    );
    leader.worker.terminate();
    await follower.status((status) => status.type === "leader" && status.leader);
    await until(follower.chronicle, finished(2));
    await expectEachCommandOnce(name, orders);
    await follower.chronicle.close();
  });

  it("fires a deadline that passed while the app was closed, on the next start", async () => {
    const name = freshName("deadline");
    await seed(name, ["o1"], { manual: true });
    const first = await openShop(name);
    const [waiting] = await until(
      first.chronicle,
      (list) =>
        list[0]?.status === "waiting" && (list[0].state as { stage: string }).stage === "charging",
    );
    expect(waiting!.deadlines).toMatchObject([{ name: "payment-due" }]);
    await first.chronicle.close();

    // The app is closed while the payment window ends; it opens again later.
    const second = await openShop(name, { clockOffset: paymentWindowMs + 1 });
    const [expired] = await until(second.chronicle, finished(1));
    expect(expired!.state).toMatchObject({ stage: "expired" });
    expect(expired!.history.some((line) => line.kind === "timeout")).toBe(true);
    expect(await types(name, "order-o1")).toEqual(["order.placed", "order.cancelled"]);
    expect(await types(name, "stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.released",
    ]);
    await second.chronicle.close();
  });

  it("reactions: a handler that throws twice is called three times and checkpointed once; one that always throws is dead-lettered with its error", async () => {
    const name = freshName("reactions");
    await seed(name, ["o1"], { receiptFailures: 2 });
    const calls: string[] = [];
    const worker = shopWorker();
    worker.addEventListener("message", (message: MessageEvent) => {
      if (message.data?.probe === "receipt") {
        calls.push(`${message.data.orderId}#${message.data.attempt}`);
      }
    });
    const shop = await connect(name, worker);
    await shop.chronicle.execute(`order-o2`, order, {
      type: "place",
      orderId: "o2",
      sku: "apple",
      quantity: 1,
      amount: 50,
      receiptFailures: 99,
    });
    const letters = await new Promise<Awaited<ReturnType<Chronicle["processes"]["deadLetters"]>>>(
      (resolve) => {
        const check = async () => {
          const found = await shop.chronicle.processes.deadLetters("receipts");
          if (found.length > 0) {
            stop();
            resolve(found);
          }
        };
        const stop = shop.chronicle.processes.onChange(() => void check());
        void check();
      },
    );
    expect(calls.filter((call) => call.startsWith("o1"))).toEqual(["o1#1", "o1#2", "o1#3"]);
    expect(calls.filter((call) => call.startsWith("o2"))).toEqual(["o2#1", "o2#2", "o2#3"]);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      reaction: "receipts",
      attempts: 3,
      event: { stream: "order-o2" },
    });
    expect(letters[0]!.error.message).toContain("attempt 3");
    // The checkpoint is past both orders, with no retry waiting: o1 was checkpointed once it
    // succeeded, o2 once it was dead-lettered.
    const store = new DexieEventStore({ name, broadcast: false });
    const o2Seq = (await store.db.events
      .where("[stream+position]")
      .equals(["order-o2", 1])
      .first())!.seq;
    const consumer = await new DexieProcessStore(store.db, { broadcast: false }).consumer(
      "reaction:receipts",
    );
    expect(consumer?.checkpoint).toBeGreaterThanOrEqual(o2Seq);
    expect(consumer?.retry).toBeUndefined();
    await store.close();
    // Retrying runs the handler once more (it still fails: the letter stays, attempts grow).
    expect(await shop.chronicle.processes.retryDeadLetter(letters[0]!.id)).toBe(false);
    expect(calls.filter((call) => call.startsWith("o2"))).toEqual(["o2#1", "o2#2", "o2#3", "o2#4"]);
    expect((await shop.chronicle.processes.deadLetters())[0]?.attempts).toBe(4);
    await shop.chronicle.close();
  });
});

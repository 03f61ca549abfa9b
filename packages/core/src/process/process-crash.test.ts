// Crash injection: the runner dies at every store write of a scenario (just before it, or just
// after it committed), and a fresh runner over the same stores finishes the work. Every instance
// ends where an uninterrupted run ends, and no command is applied twice.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCommandHandler } from "../decider/command-handler.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import type { EventStore } from "../store/types.ts";
import {
  cardLimit,
  fulfilment,
  order,
  payment,
  paymentWindowMs,
  stock,
} from "./__fixtures__/shop.ts";
import { createVirtualClock } from "./clock.ts";
import { MemoryProcessStore } from "./memory-process-store.ts";
import { createProcessRunner } from "./process-runner.ts";
import type { ProcessStore } from "./process-store.ts";

class Crash extends Error {}

type CrashPlan = { at: number; when: "before" | "after" } | undefined;

/** Wraps both stores; the `at`-th write (counting appends and commits) crashes. */
function crashingStores(store: EventStore, processStore: ProcessStore, plan: CrashPlan) {
  let writes = 0;
  const write = async <T>(run: () => Promise<T>): Promise<T> => {
    writes++;
    const crashHere = plan !== undefined && writes === plan.at;
    if (crashHere && plan.when === "before") throw new Crash(`crash before write ${writes}`);
    const result = await run();
    if (crashHere && plan.when === "after") throw new Crash(`crash after write ${writes}`);
    return result;
  };
  const events: EventStore = {
    append: (stream, batch, options) => write(() => store.append(stream, batch, options)),
    readStream: (stream, options) => store.readStream(stream, options),
    head: (stream) => store.head(stream),
    readAll: (options) => store.readAll(options),
    lastCheckpoint: () => store.lastCheckpoint(),
    subscribe: (options, handler) => store.subscribe(options, handler),
    close: () => store.close(),
  };
  const processes: ProcessStore = {
    instance: (process, id) => processStore.instance(process, id),
    instances: (query) => processStore.instances(query),
    consumer: (name) => processStore.consumer(name),
    deadLetters: (reaction) => processStore.deadLetters(reaction),
    commit: (change) => write(() => processStore.commit(change)),
  };
  return { events, processes, writes: () => writes };
}

/** The scenario: a completed order, a refused card, and a timeout; returns the final log. */
async function scenario(plan: CrashPlan) {
  const clock = createVirtualClock(Date.UTC(2025, 0, 1));
  const store = new MemoryEventStore({ now: clock.now });
  const processStore = new MemoryProcessStore();
  const crashing = crashingStores(store, processStore, plan);
  let crashes = 0;
  const drain = async () => {
    for (;;) {
      const runner = createProcessRunner({
        store: crashing.events,
        processStore: crashing.processes,
        clock,
        deciders: [order, stock, payment],
        processes: [fulfilment],
      });
      try {
        await runner.drain();
        return runner;
      } catch (error) {
        if (!(error instanceof Crash)) throw error;
        crashes++;
      }
    }
  };
  const context = { actor: "alice", device: "d1", now: clock.now };
  const placeOrder = (orderId: string, amount: number) =>
    createCommandHandler(store, order, { context })(`order-${orderId}`, {
      type: "place",
      orderId,
      sku: "apple",
      quantity: 1,
      amount,
    });
  await createCommandHandler(store, stock, { context })("stock-apple", {
    type: "add",
    quantity: 5,
  });
  await placeOrder("o1", 10);
  await placeOrder("o2", cardLimit + 1);
  await placeOrder("o3", 10);
  await drain();
  await createCommandHandler(store, payment, { context })("payment-o1", {
    type: "capture",
    orderId: "o1",
  });
  await drain();
  clock.advance(paymentWindowMs + 1);
  const runner = await drain();
  return { store, runner, crashes, writes: crashing.writes() };
}

async function outcome(run: Awaited<ReturnType<typeof scenario>>) {
  const all = await run.store.readAll();
  const ids = all.map((entry) => entry.event.id);
  expect(new Set(ids).size).toBe(ids.length);
  const facts = all
    .map(
      ({ event }) =>
        `${event.stream} ${event.type} ${(event.data as { orderId?: string }).orderId ?? ""}`,
    )
    .sort();
  const instances = (await run.runner.list()).map((instance) => ({
    id: instance.id,
    status: instance.status,
    state: instance.state,
    outbox: instance.outbox,
    deadlines: instance.deadlines,
  }));
  return { facts, instances };
}

describe("process runner crash recovery", () => {
  it("finishes every instance with each command applied once, whatever write it crashes at", async () => {
    const clean = await scenario(undefined);
    const expected = await outcome(clean);
    expect(expected.instances.map((instance) => [instance.id, instance.status])).toEqual([
      ["o1", "done"],
      ["o2", "compensated"],
      ["o3", "done"],
    ]);
    expect(clean.writes).toBeGreaterThan(20);
    for (let at = 1; at <= clean.writes; at++) {
      for (const when of ["before", "after"] as const) {
        const run = await scenario({ at, when });
        expect(run.crashes, `crash ${when} write ${at}`).toBe(1);
        expect(await outcome(run), `crash ${when} write ${at}`).toEqual(expected);
      }
    }
  });
});

describe("process runner delivery schedules", () => {
  it("handles duplicated and reordered deliveries once each, ending as in order (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { minLength: 0, maxLength: 60 }), async (choices) => {
        const clock = createVirtualClock(0);
        const store = new MemoryEventStore({ now: clock.now });
        const runner = createProcessRunner({
          store,
          processStore: new MemoryProcessStore(),
          clock,
          deciders: [order, stock, payment],
          processes: [fulfilment],
        });
        const context = { actor: "alice", device: "d1", now: clock.now };
        await createCommandHandler(store, stock, { context })("stock-apple", {
          type: "add",
          quantity: 9,
        });
        const amounts: Record<string, number> = { a: 10, b: cardLimit + 5, c: 20 };
        for (const [orderId, amount] of Object.entries(amounts)) {
          await createCommandHandler(store, order, { context })(`order-${orderId}`, {
            type: "place",
            orderId,
            sku: "apple",
            quantity: 1,
            amount,
          });
        }
        // The payment gateway captures every requested payment.
        const gateway = async () => {
          for (const orderId of Object.keys(amounts)) {
            const types = (await store.readStream(`payment-${orderId}`)).map((event) => event.type);
            if (types.includes("payment.requested") && !types.includes("payment.captured")) {
              await createCommandHandler(store, payment, { context })(`payment-${orderId}`, {
                type: "capture",
                orderId,
              });
            }
          }
        };
        // Deliver events picked by the schedule (repeats allowed), then everything backwards until
        // nothing new appears.
        for (const choice of choices) {
          const pool = await store.readAll();
          await runner.handle(pool[choice % pool.length]!.event);
          await gateway();
        }
        for (let seen = -1; seen !== (await store.lastCheckpoint()); ) {
          seen = await store.lastCheckpoint();
          for (const { event } of (await store.readAll()).reverse()) await runner.handle(event);
          await gateway();
        }

        const count = async (stream: string, type: string, orderId: string) =>
          (await store.readStream(stream)).filter(
            (event) =>
              event.type === type && (event.data as { orderId?: string }).orderId === orderId,
          ).length;
        for (const orderId of ["a", "c"]) {
          expect((await runner.get("order-fulfilment", orderId))?.status).toBe("done");
          expect(await count(`order-${orderId}`, "order.completed", orderId)).toBe(1);
          expect(await count("stock-apple", "stock.reserved", orderId)).toBe(1);
          expect(await count(`payment-${orderId}`, "payment.requested", orderId)).toBe(1);
        }
        expect((await runner.get("order-fulfilment", "b"))?.status).toBe("compensated");
        expect(await count("order-b", "order.cancelled", "b")).toBe(1);
        expect(await count("stock-apple", "stock.reserved", "b")).toBe(1);
        expect(await count("stock-apple", "stock.released", "b")).toBe(1);
        for (const instance of await runner.list()) {
          expect(new Set(instance.handled).size).toBe(instance.handled.length);
        }
      }),
      { numRuns: 60 },
    );
  });
});

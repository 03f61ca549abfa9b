// Node tier: processes and reactions in the worker engine on fake-indexeddb (no worker, no
// Web Locks: an engine leads at once). The browser tier runs them in real workers
// (processes.browser.test.ts); the sync rejection path runs over the in-memory node here.
import { createEnvelope } from "@chronicle/core";
import { createVirtualClock, type ProcessInstance, processEventId } from "@chronicle/core/process";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { defaultLimits } from "@chronicle/sync/protocol";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { paymentWindowMs, probes, shopApp, stockAdded } from "../__fixtures__/shop.ts";
import type { HostStatus } from "../shared/host-api.ts";
import { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { ChronicleEngine } from "./engine.ts";
import type { EngineOptions } from "./engine-options.ts";
import { createHostApi } from "./host.ts";
import { openEngine } from "./open-engine.ts";
import { processEventStore } from "./process-event-store.ts";

const opened: ChronicleEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
  probes.onReceipt = undefined;
});

async function shop(name: string, indexedDB: IDBFactory, extra: Partial<EngineOptions> = {}) {
  const statuses: HostStatus[] = [];
  const onStatus = new Set<() => void>();
  const engine = await openEngine({
    name,
    indexedDB,
    IDBKeyRange,
    ...shopApp,
    actor: "alice",
    onStatus: (status) => {
      statuses.push(status);
      for (const listener of [...onStatus]) listener();
    },
    ...extra,
  });
  opened.push(engine);
  const host = engine.processes!;
  /** Resolves once `check` holds for the instances (now or after a later commit). */
  const until = (check: (instances: ProcessInstance[]) => boolean) =>
    new Promise<ProcessInstance[]>((resolve, reject) => {
      let done = false;
      const test = () =>
        host.list().then((instances) => {
          if (done || !check(instances)) return;
          done = true;
          stop();
          resolve(instances);
        }, reject);
      const stop = host.onChange(() => void test());
      void test();
    });
  const types = async (stream: string) =>
    (await engine.store.readStream(stream)).map((event) => event.type);
  const place = (orderId: string, extra: Record<string, unknown> = {}) =>
    engine.execute(`order-${orderId}`, "order", {
      type: "place",
      orderId,
      sku: "apple",
      quantity: 1,
      amount: 50,
      ...extra,
    });
  return { engine, host, statuses, onStatus, until, types, place };
}

const all = (status: string) => (instances: ProcessInstance[]) =>
  instances.length > 0 &&
  instances.every((instance) => instance.status === status && instance.outbox.length === 0);

describe("processes in the worker engine", () => {
  it("runs an order to completion in the leader, each command once, with deterministic ids", async () => {
    const s = await shop("shop-happy", new IDBFactory());
    await s.engine.execute("stock-apple", "stock", { type: "add", quantity: 2 });
    await s.place("o1");
    const [instance] = await s.until(all("done"));
    expect(await s.types("stock-apple")).toEqual(["stock.added", "stock.reserved"]);
    expect(await s.types("payment-o1")).toEqual(["payment.requested"]);
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.completed"]);
    const delivered = instance!.history.flatMap((line) =>
      line.kind === "delivered" ? line.eventIds : [],
    );
    const [reserved] = (await s.engine.store.readStream("stock-apple")).slice(1);
    expect(delivered[0]).toBe(reserved!.id);
    expect(reserved!.meta).toMatchObject({ actor: "alice", device: s.engine.deviceId });
    // The main thread's reads go through the same host.
    expect(await s.host.get("order-fulfilment", "o1")).toMatchObject({ status: "done" });
  });

  it("fires a deadline that passed while the app was closed, on the next start", async () => {
    const indexedDB = new IDBFactory();
    const clock = createVirtualClock(Date.UTC(2026, 0, 1));
    const first = await shop("shop-deadline", indexedDB, { processClock: clock });
    await first.engine.execute("stock-apple", "stock", { type: "add", quantity: 1 });
    await first.place("o1", { manual: true });
    const [waiting] = await first.until(
      (list) =>
        list[0]?.status === "waiting" && (list[0].state as { stage: string }).stage === "charging",
    );
    expect(waiting!.deadlines).toMatchObject([{ name: "payment-due" }]);
    await first.engine.close();

    clock.advance(paymentWindowMs + 1); // nobody is running: no timer fires
    const second = await shop("shop-deadline", indexedDB, { processClock: clock });
    const [expired] = await second.until(all("done"));
    expect(expired!.state).toMatchObject({ stage: "expired" });
    expect(await second.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
    expect(await second.types("stock-apple")).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.released",
    ]);
  });

  it("compensates locally when a command is refused (the card limit)", async () => {
    const s = await shop("shop-refused", new IDBFactory());
    await s.engine.execute("stock-apple", "stock", { type: "add", quantity: 1 });
    await s.place("o1", { amount: 500 });
    const [instance] = await s.until(all("compensated"));
    expect(instance!.compensation?.reason).toMatchObject({ code: "forbidden" });
    expect(await s.types("order-o1")).toEqual(["order.placed", "order.cancelled"]);
  });

  it("reactions: thrown twice then called a third time and checkpointed; always throwing lands in the dead letters", async () => {
    const calls: string[] = [];
    probes.onReceipt = (orderId, attempt) => calls.push(`${orderId}#${attempt}`);
    const s = await shop("shop-reactions", new IDBFactory());
    await s.engine.execute("stock-apple", "stock", { type: "add", quantity: 2 });
    await s.place("o1", { receiptFailures: 2 });
    await s.place("o2", { receiptFailures: 99 });
    const db = s.engine.store.db;
    const placed = async (orderId: string) =>
      (await db.events
        .where("[stream+position]")
        .equals([`order-${orderId}`, 1])
        .first())!.seq;
    const letters = await new Promise<unknown[]>((resolve) => {
      const check = async () => {
        const found = await s.host.deadLetters("receipts");
        if (found.length > 0) resolve(found);
      };
      s.host.onChange(() => void check());
      void check();
    });
    expect(calls.filter((call) => call.startsWith("o1"))).toEqual(["o1#1", "o1#2", "o1#3"]);
    expect(calls.filter((call) => call.startsWith("o2"))).toEqual(["o2#1", "o2#2", "o2#3"]);
    expect(letters).toMatchObject([
      { id: `receipts/${(await s.engine.store.readStream("order-o2"))[0]!.id}`, attempts: 3 },
    ]);
    expect((letters[0] as { error: { message: string } }).error.message).toContain("attempt 3");
    const checkpoint = await db.processConsumers.get("reaction:receipts");
    expect(checkpoint?.checkpoint).toBeGreaterThanOrEqual(await placed("o2"));
    expect(checkpoint?.retry).toBeUndefined();
    expect(await placed("o1")).toBeLessThan(await placed("o2"));
  });
});

describe("processes with sync (in-memory node)", () => {
  it("compensates when the node refuses events a process sent, after the sync", async () => {
    // The node refuses events over 2 KB: o2's payment request has a 3,000-character memo.
    const node = new MemoryNode({
      actor: "alice",
      limits: { ...defaultLimits, maxEventBytes: 2048 },
    });
    let syncEngine: SyncEngine | undefined;
    const s = await shop("shop-sync", new IDBFactory(), {
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams: ["order-o1", "stock-apple", "payment-o1"],
        followNetwork: false,
        onEngine: (created) => {
          syncEngine = created;
        },
      }),
    });
    await s.engine.execute("stock-apple", "stock", { type: "add", quantity: 2 });
    await s.place("o1", { paymentMemoLength: 1000 });
    // Processes react to confirmed events: the order reaches the node, then the process runs.
    const [done] = await s.until(all("done"));
    expect(node.log("order-o1").map((event) => event.type)).toEqual(["order.placed"]);
    expect(done).toBeDefined();
    await s.place("o2", { paymentMemoLength: 3000 });
    const rejected = await s.until((list) =>
      list.some((instance) => instance.id === "o2" && instance.status === "compensated"),
    );
    const o2 = rejected.find((instance) => instance.id === "o2")!;
    expect(o2.compensation?.reason).toMatchObject({ code: "too-large", outboxId: "2.0" });
    expect(o2.history.map((line) => line.kind)).toEqual([
      "event",
      "delivered",
      "event",
      "delivered",
      "refused",
      "compensating",
      "delivered",
      "delivered",
    ]);
    // Reverse order: the stock released, then the order cancelled; both reach the node.
    const settled = (stream: string, count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (node.log(stream).length === count && syncEngine?.syncStatus(stream).pending === 0) {
            resolve();
            return true;
          }
          return false;
        };
        // A stream is settled when its status says so (sync statuses follow every ack).
        if (check()) return;
        const listener = () => {
          if (check()) s.onStatus.delete(listener);
        };
        s.onStatus.add(listener);
      });
    await settled("order-o2", 2);
    expect(node.log("order-o2").map((event) => event.type)).toEqual([
      "order.placed",
      "order.cancelled",
    ]);
    expect(node.log("payment-o2")).toEqual([]);
    expect(node.log("stock-apple").map((event) => event.type)).toEqual([
      "stock.added",
      "stock.reserved",
      "stock.reserved",
      "stock.released",
    ]);
  });
});

describe("process commands' pending events (in-memory node)", () => {
  it("keep their deterministic ids through a rebase: another device's events are confirmed first, then the process's under its id", async () => {
    const node = new MemoryNode({ actor: "alice" });
    const engines: SyncEngine[] = [];
    const device = (name: string, online: boolean) =>
      shop(name, new IDBFactory(), {
        processes: [],
        reactions: [],
        sync: createSyncStarter({
          transport: createLoopbackTransport(node),
          streams: ["stock-apple"],
          followNetwork: false,
          online,
          onEngine: (created) => {
            engines.push(created);
          },
        }),
      });
    const a = await device("rebase-a", false);
    const b = await device("rebase-b", true);
    const [aSync] = engines;
    // What the runner's EventStore does with a process command: pending rows under given ids.
    const events = processEventStore({
      store: a.engine.store,
      local: new DexieLocalLog(a.engine.store),
      forgetStream: () => {},
    });
    const id = processEventId({
      process: "order-fulfilment",
      instance: "o1",
      step: 1,
      command: 0,
      event: 0,
    });
    await events.append(
      "stock-apple",
      [
        createEnvelope(
          "stock-apple",
          { ...stockAdded.create({ quantity: 1 }), version: 1, id },
          {},
        ),
      ],
      { expectedVersion: "no-stream" },
    );
    const other = await b.engine.execute("stock-apple", "stock", { type: "add", quantity: 5 });
    const settled = (s: typeof a, head: number) =>
      new Promise<void>((resolve) => {
        const check = () =>
          s.statuses.some(
            (status) =>
              status.type === "sync-status" &&
              status.stream === "stock-apple" &&
              status.status.state === "synced" &&
              status.status.pending === 0 &&
              status.status.confirmedHead === head,
          );
        if (check()) return resolve();
        const listener = () => {
          if (!check()) return;
          s.onStatus.delete(listener);
          resolve();
        };
        s.onStatus.add(listener);
      });
    await settled(b, 1);
    aSync!.setOnline(true);
    await settled(a, 2);
    expect(node.log("stock-apple").map((event) => event.id)).toEqual([other.events[0]!.id, id]);
    expect((await a.engine.store.readStream("stock-apple")).map((event) => event.id)).toEqual([
      other.events[0]!.id,
      id,
    ]);
    // Delivered again (a crash before the outbox moved), the command finds its id: nothing new.
    expect((await events.readStream("stock-apple")).map((event) => event.id)).toContain(id);
  });
});

describe("the host API without processes", () => {
  it("answers empty lists (a devtools panel may ask any app) and refuses a retry with not-found", async () => {
    const api = createHostApi({
      name: "no-processes",
      deciders: shopApp.deciders,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
    });
    await api.open({});
    expect(await api.processList()).toEqual([]);
    expect(await api.processGet("order-fulfilment", "o1")).toBeUndefined();
    expect(await api.deadLetters()).toEqual([]);
    await expect(api.retryDeadLetter("receipts/x")).rejects.toMatchObject({ code: "not-found" });
    await api.close();
  });
});

import {
  type ConfirmedEvent,
  foldEvents,
  initialStateOf,
  MemoryLocalLog,
  type RejectedNotice,
  type SyncStatus,
} from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account } from "../__fixtures__/account.ts";
import { networkDevice } from "../__fixtures__/network-device.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { defaultLimits } from "../protocol/limits.ts";
import { createLoopbackTransport } from "../testing/loopback-transport.ts";
import { MemoryNetwork } from "../testing/memory-network.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import { createSyncEngine, type SyncEngine } from "./sync-engine.ts";
import type { SyncTransport } from "./transport.ts";

const STREAM = "account:1";

function world(seed = 7) {
  const node = new MemoryNode();
  const network = new MemoryNetwork(node, seed);
  const device = (name: string, local = new MemoryLocalLog(), actor = "user") => {
    const { transport, engine } = networkDevice(network, name, { local, actor });
    const rejected: RejectedNotice[] = [];
    engine.onRejected((notice) => rejected.push(notice));
    return { name, local, transport, engine, rejected };
  };
  const settle = async (...engines: SyncEngine[]) => {
    const deadline = network.now + 120_000;
    for (let round = 0; round < 100; round++) {
      await network.run({ until: deadline });
      for (const engine of engines) await engine.idle();
      if (network.quiet && network.nextTimerDue > deadline) return;
    }
    throw new Error("the network did not settle");
  };
  return { node, network, device, settle };
}

const balanceOf = (events: ConfirmedEvent[]) =>
  foldEvents(account, initialStateOf(account), events).balance;

describe("sync engine against the in-memory node", () => {
  it("pushes offline writes when online and every device ends with the node's log", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const b = device("b");
    a.transport.online = false;
    a.engine.setOnline(false);
    a.engine.start(STREAM);
    b.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 5 });
    await a.engine.execute(STREAM, account, { deposit: 7 });
    await b.engine.execute(STREAM, account, { deposit: 1 });
    await settle(a.engine, b.engine);
    expect(node.log(STREAM)).toHaveLength(1);
    expect(a.engine.syncStatus(STREAM)).toMatchObject({ state: "offline", pending: 2 });

    a.transport.online = true;
    a.engine.setOnline(true);
    await settle(a.engine, b.engine);
    const log = node.log(STREAM);
    expect(log.map((e) => e.position)).toEqual([1, 2, 3]);
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
    expect(await b.local.readConfirmed(STREAM)).toEqual(log);
    expect(await a.local.readPending(STREAM)).toEqual([]);
    expect(a.engine.syncStatus(STREAM)).toMatchObject({
      state: "synced",
      pending: 0,
      confirmedHead: 3,
    });
    expect(balanceOf(log)).toBe(13);
  });

  it("takes node-owned fields from the ack: a pusher whose actor is not its token's subject ends with the node's log exactly", async () => {
    const { node, device, settle } = world();
    const a = device("a", new MemoryLocalLog(), "what-the-app-said");
    a.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 5 });
    await settle(a.engine);
    const log = node.log(STREAM);
    expect(log[0]!.meta.actor).toBe("user"); // stamped by the node
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
  });

  it("reports status transitions a UI can show", async () => {
    const { device, settle } = world();
    const a = device("a");
    const seen: SyncStatus["state"][] = [];
    a.engine.onSyncStatus(STREAM, (status) => {
      if (seen[seen.length - 1] !== status.state) seen.push(status.state);
    });
    // Heard at once: the stream's current status, before it was started.
    expect(seen).toEqual(["offline"]);
    a.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 1 });
    await settle(a.engine);
    expect(seen.slice(0, 2)).toEqual(["offline", "connecting"]);
    expect(seen).toContain("syncing");
    expect(seen[seen.length - 1]).toBe("synced");
  });

  it("onSyncStatus calls the listener at once with the current status, then on changes only", async () => {
    const { device, settle } = world();
    const a = device("a");
    a.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 1 });
    await settle(a.engine);
    const heard: SyncStatus[] = [];
    const stop = a.engine.onSyncStatus(STREAM, (status) => heard.push(status));
    expect(heard).toEqual([a.engine.syncStatus(STREAM)]);
    expect(heard[0]).toMatchObject({ state: "synced", pending: 0, confirmedHead: 1 });
    stop();
    await a.engine.execute(STREAM, account, { deposit: 1 });
    await settle(a.engine);
    expect(heard).toHaveLength(1);
  });

  it("re-runs a strict command after a conflict, and rejects it when it no longer holds", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const b = device("b");
    a.engine.start(STREAM);
    b.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 10 });
    await settle(a.engine, b.engine);

    a.transport.online = false;
    a.engine.setOnline(false);
    await a.engine.execute(STREAM, account, { withdraw: 8 }, { strict: true });
    await b.engine.execute(STREAM, account, { withdraw: 5 }, { strict: true });
    await settle(a.engine, b.engine);
    a.transport.online = true;
    a.engine.setOnline(true);
    await settle(a.engine, b.engine);

    const log = node.log(STREAM);
    expect(log.map((e) => e.type)).toEqual(["money.deposited", "money.withdrawn"]);
    expect(balanceOf(log)).toBe(5);
    expect(a.rejected).toHaveLength(1);
    expect(a.rejected[0]).toMatchObject({
      code: "validation",
      decider: "account",
      command: { withdraw: 8 },
    });
    expect(a.rejected[0]!.events).toHaveLength(1);
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
    expect(await a.local.readPending(STREAM)).toEqual([]);
  });

  it("re-decides a strict command that still holds on the new state, once", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const b = device("b");
    a.engine.start(STREAM);
    b.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 20 });
    await settle(a.engine, b.engine);
    a.transport.online = false;
    a.engine.setOnline(false);
    const [original] = await a.engine.execute(STREAM, account, { withdraw: 8 }, { strict: true });
    await b.engine.execute(STREAM, account, { withdraw: 5 }, { strict: true });
    await settle(a.engine, b.engine);
    a.transport.online = true;
    a.engine.setOnline(true);
    await settle(a.engine, b.engine);
    const log = node.log(STREAM);
    expect(balanceOf(log)).toBe(7);
    const mine = log.filter((e) => e.meta.causationId === original!.meta.causationId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.id).not.toBe(original!.id);
    expect(a.rejected).toEqual([]);
  });

  it("drops the confirmed cache on a new epoch and pushes pending events again", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const resets: string[] = [];
    a.engine.onEpochReset((notice) => resets.push(notice.epoch));
    a.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 1 });
    await settle(a.engine);
    a.transport.online = false;
    a.engine.setOnline(false);
    await a.engine.execute(STREAM, account, { deposit: 2 });
    node.resetStream(STREAM);
    a.transport.online = true;
    a.engine.setOnline(true);
    await settle(a.engine);
    expect(resets).toEqual([node.epoch(STREAM)]);
    const log = node.log(STREAM);
    expect(log.map((e) => e.data)).toEqual([{ amount: 2 }]);
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
    expect(await a.local.readMeta(STREAM)).toEqual({ epoch: node.epoch(STREAM) });
  });

  it("recovers from lost frames by timing out and re-pushing the same ids", async () => {
    const { node, network, device, settle } = world(3);
    const a = device("a");
    a.engine.start(STREAM);
    await settle(a.engine);
    network.faults = { drop: 1 };
    await a.engine.execute(STREAM, account, { deposit: 4 });
    await network.run({ maxSteps: 3 });
    network.faults = {};
    await settle(a.engine);
    expect(node.log(STREAM)).toHaveLength(1);
    expect(await a.local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
  });

  it("refuses nothing silently: an event the node refuses is reported and the rest still sync", async () => {
    const node = new MemoryNode({
      limits: {
        maxEventBytes: 400,
        maxEventsPerPush: 500,
        maxFrameBytes: 1 << 20,
        defaultPullLimit: 500,
        maxPullLimit: 1000,
      },
    });
    const network = new MemoryNetwork(node, 1);
    const local = new MemoryLocalLog();
    const engine = createSyncEngine({
      local,
      transport: network.transport(),
      device: "a",
      scheduler: network.scheduler,
    });
    const rejected: RejectedNotice[] = [];
    engine.onRejected((notice) => rejected.push(notice));
    engine.setOnline(false);
    engine.start(STREAM);
    await engine.execute(STREAM, account, { deposit: 1 });
    await engine.execute(
      STREAM,
      account,
      { deposit: 2 },
      { context: { correlationId: "x".repeat(120), actor: "y".repeat(200) } },
    );
    await engine.execute(STREAM, account, { deposit: 3 });
    engine.setOnline(true);
    const deadline = network.now + 30_000;
    do {
      await engine.idle();
      await network.run({ until: deadline });
      await engine.idle();
    } while (!network.quiet || network.nextTimerDue <= deadline);
    expect(node.log(STREAM).map((e) => e.data)).toEqual([{ amount: 1 }, { amount: 3 }]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ code: "too-large", command: { deposit: 2 } });
    expect(await local.readPending(STREAM)).toEqual([]);
  });

  it("syncOnce pushes, catches up and disconnects", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const b = device("b");
    b.engine.start(STREAM);
    await b.engine.execute(STREAM, account, { deposit: 9 });
    await settle(b.engine);
    await a.engine.execute(STREAM, account, { deposit: 1 });
    const once = a.engine.syncOnce(STREAM);
    await settle(a.engine, b.engine);
    await once;
    expect(await a.local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
    expect(a.engine.syncStatus(STREAM).state).toBe("offline");
  });

  it("start on a stream that is already live pushes what was written since (a host announcing a write)", async () => {
    const { node, network, device, settle } = world();
    const a = device("a");
    a.engine.start(STREAM);
    await settle(a.engine);
    await a.local.addPending(STREAM, [
      {
        id: "e1",
        stream: STREAM,
        type: "money.deposited",
        version: 1,
        data: { amount: 3 },
        meta: { actor: "user", device: "a", occurredAt: 0, correlationId: "e1" },
      },
    ]);
    // Started again (as a sync starter does on a write to a stream the app had started):
    // the pending event goes out now, not at the next catch-up timer.
    a.engine.start(STREAM);
    const now = network.now;
    for (let round = 0; round < 20; round++) {
      await a.engine.idle();
      await network.run({ until: now });
    }
    expect(node.log(STREAM).map((event) => event.id)).toEqual(["e1"]);
    expect(await a.local.readPending(STREAM)).toEqual([]);
  });

  it("kicks that arrive while one is queued share its pump: the pending list is read once for them", async () => {
    const { device, settle } = world();
    let reads = 0;
    const local = new (class extends MemoryLocalLog {
      override readPending(stream: string) {
        reads++;
        return super.readPending(stream);
      }
    })();
    const a = device("a", local);
    a.transport.online = false;
    a.engine.setOnline(false);
    a.engine.start(STREAM);
    await settle(a.engine);
    await local.addPending(STREAM, [
      {
        id: "e1",
        stream: STREAM,
        type: "money.deposited",
        version: 1,
        data: { amount: 1 },
        meta: { actor: "user", device: "a", occurredAt: 0, correlationId: "e1" },
      },
    ]);
    const before = reads;
    // A burst of local writes announced at once (commands fired without awaiting).
    await Promise.all(Array.from({ length: 20 }, () => a.engine.kick(STREAM)));
    expect(reads - before).toBe(1);
    expect(a.engine.syncStatus(STREAM)).toMatchObject({ state: "offline", pending: 1 });
    // A kick after that pump started is not lost: it runs a pump of its own.
    await local.addPending(STREAM, [
      {
        id: "e2",
        stream: STREAM,
        type: "money.deposited",
        version: 1,
        data: { amount: 1 },
        meta: { actor: "user", device: "a", occurredAt: 0, correlationId: "e2" },
      },
    ]);
    await a.engine.kick(STREAM);
    expect(reads - before).toBe(2);
    expect(a.engine.syncStatus(STREAM)).toMatchObject({ pending: 2 });
  });

  describe("the catch-up after a welcome", () => {
    // The frames a device sends (by type), and a way to lose frames the node sends it.
    const recording = (transport: SyncTransport, lose: (frame: ServerFrame) => boolean) => {
      const sent: string[] = [];
      const wrapped: SyncTransport = {
        connect: (stream, listener) => {
          const connection = transport.connect(stream, {
            onOpen: () => listener.onOpen(),
            onFrame: (frame) => (lose(frame) ? undefined : listener.onFrame(frame)),
            onClose: (error) => listener.onClose(error),
          });
          return {
            send: (frame) => {
              sent.push(frame.t);
              connection.send(frame);
            },
            close: () => connection.close(),
          };
        },
      };
      return { sent, transport: wrapped };
    };
    // A node whose catch-up comes in pages of 2 events, with 7 events written by another device.
    const seeded = async () => {
      const node = new MemoryNode({ limits: { ...defaultLimits, defaultPullLimit: 2 } });
      const writer = createSyncEngine({
        local: new MemoryLocalLog(),
        transport: createLoopbackTransport(node),
        device: "writer",
      });
      for (let i = 1; i <= 7; i++) await writer.execute(STREAM, account, { deposit: i });
      await writer.syncOnce(STREAM);
      expect(node.log(STREAM)).toHaveLength(7);
      return node;
    };

    const newDevice = (transport: SyncTransport) => {
      const local = new MemoryLocalLog();
      return { local, engine: createSyncEngine({ local, transport, device: "new" }) };
    };

    it("a new device takes the pages the node sends after its welcome, without pulling them again", async () => {
      const node = await seeded();
      const { sent, transport } = recording(createLoopbackTransport(node), () => false);
      const { local, engine } = newDevice(transport);
      await engine.syncOnce(STREAM);
      expect(await local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
      expect(sent).toEqual(["hello"]);
      await engine.idle();
      expect(engine.syncStatus(STREAM)).toMatchObject({ state: "offline", confirmedHead: 7 });
    });

    it("a page of the catch-up lost on the way is pulled: the device still ends with the node's log", async () => {
      const node = await seeded();
      let lost = 0;
      const { sent, transport } = recording(createLoopbackTransport(node), (frame) => {
        // The second page of the catch-up (events 3-4) never arrives.
        if (frame.t !== "events" || frame.req !== undefined || frame.events[0]?.position !== 3)
          return false;
        lost++;
        return true;
      });
      const { local, engine } = newDevice(transport);
      await engine.syncOnce(STREAM);
      expect(lost).toBe(1);
      expect(sent).toContain("pull");
      expect(await local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
    });

    it("reads the stream's sync meta once per connection and its floor once it is 0", async () => {
      const node = await seeded();
      const local = new MemoryLocalLog();
      const calls = new Map<string, number>();
      const counted = new Proxy(local, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
            return value.apply(target, args);
          };
        },
      });
      const engine = createSyncEngine({
        local: counted,
        transport: createLoopbackTransport(node),
        device: "new",
      });
      await engine.syncOnce(STREAM);
      await engine.syncOnce(STREAM);
      expect(await local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
      // Before each hello; the welcome takes what the hello was sent with.
      expect(calls.get("readMeta")).toBe(2);
      expect(calls.get("confirmedFloor")).toBe(1);
    });

    it("a device that is up to date waits for no catch-up: syncOnce ends after the welcome", async () => {
      const node = await seeded();
      const { sent, transport } = recording(createLoopbackTransport(node), () => false);
      const { local, engine } = newDevice(transport);
      await engine.syncOnce(STREAM);
      await engine.syncOnce(STREAM);
      expect(sent).toEqual(["hello", "hello"]);
      expect(await local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
    });
  });
});

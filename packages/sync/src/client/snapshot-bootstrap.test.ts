// A new device starts from the node's snapshots (docs/architecture.md, "Snapshots for new
// devices"; stream-session.ts rules 11 and 12): usable at once on snapshot state + tail, history
// back-filled below the floor, and in the end the same log and states as a full catch-up.
import {
  defineProjection,
  type Foldable,
  foldEvents,
  initialStateOf,
  isHistoryIncomplete,
} from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account, deposited, withdrawn } from "../__fixtures__/account.ts";
import { type NetworkDeviceOptions, networkDevice } from "../__fixtures__/network-device.ts";
import { MemoryNetwork } from "../testing/memory-network.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import type { SyncEngine } from "./sync-engine.ts";

const STREAM = "account:1";

const ledger = defineProjection({
  name: "ledger",
  version: 1,
  events: [deposited, withdrawn],
  initialState: [] as number[],
  handlers: {
    "money.deposited": (state, { data }) => [...state, data.amount],
    "money.withdrawn": (state, { data }) => [...state, -data.amount],
  },
});

function world(every = 10, nodeDefinitions: Foldable[] = [account, ledger]) {
  const node = new MemoryNode({
    snapshots: {
      deciders: nodeDefinitions.filter((f) => f.kind === "decider"),
      projections: nodeDefinitions.filter((f) => f.kind === "projection"),
      every,
    },
  });
  const network = new MemoryNetwork(node, 11);
  const device = (name: string, options: NetworkDeviceOptions = {}) =>
    networkDevice(network, name, options);
  const settle = async (...engines: SyncEngine[]) => {
    const deadline = network.now + 120_000;
    for (let round = 0; round < 200; round++) {
      await network.run({ until: deadline });
      for (const engine of engines) await engine.idle();
      if (network.quiet && network.nextTimerDue > deadline) return;
    }
    throw new Error("the network did not settle");
  };
  return { node, network, device, settle };
}

/** A writer device fills the stream with `count` deposits (1, 2, 3, ...). */
async function filled(w: ReturnType<typeof world>, count: number) {
  const writer = w.device("writer");
  writer.engine.start(STREAM);
  for (let i = 1; i <= count; i++) await writer.engine.execute(STREAM, account, { deposit: i });
  await w.settle(writer.engine);
  expect(w.node.log(STREAM)).toHaveLength(count);
  return writer;
}

const snapshotsOn = (backfill: "background" | "on-demand" = "on-demand") => ({
  snapshots: { deciders: [account], projections: [ledger], backfill },
});

describe("snapshot bootstrap of a new device", () => {
  it("starts after the node's snapshot position, reads and decides on snapshot state + tail at once", async () => {
    const w = world();
    await filled(w, 57);
    const fresh = w.device("fresh", snapshotsOn());
    fresh.engine.start(STREAM);
    await w.settle(fresh.engine);
    const log = w.node.log(STREAM);
    expect(await fresh.local.confirmedFloor(STREAM)).toBe(50);
    expect(await fresh.local.confirmedHead(STREAM)).toBe(57);
    expect(await fresh.local.readConfirmed(STREAM, 50)).toEqual(log.slice(50));
    expect(fresh.engine.syncStatus(STREAM)).toMatchObject({ state: "synced", confirmedHead: 57 });
    // Reads: the projection's state equals the full fold.
    expect((await fresh.engine.state(STREAM, ledger)).state).toEqual(
      foldEvents(ledger, initialStateOf(ledger), log),
    );
    // Commands: decided on the decider's snapshot + tail (a strict one too).
    const balance = (57 * 58) / 2;
    expect((await fresh.engine.state(STREAM, account)).state).toEqual({ balance });
    await fresh.engine.execute(STREAM, account, { withdraw: balance }, { strict: true });
    await w.settle(fresh.engine);
    expect(w.node.log(STREAM)).toHaveLength(58);
    expect((await fresh.engine.state(STREAM, account)).state).toEqual({ balance: 0 });
    // The node computed each state once, at position 50.
    expect(w.node.snapshotCount(STREAM)).toBe(2);
  });

  it("says history is incomplete below the floor until the back-fill reaches it, then ends with the same log and states as a full catch-up", async () => {
    const w = world(7);
    await filled(w, 345);
    // Small pages: the back-fill takes several, and the frame limit cuts none of them.
    const fresh = w.device("fresh", { ...snapshotsOn("on-demand"), limits: { maxPullLimit: 40 } });
    const full = w.device("full");
    fresh.engine.start(STREAM);
    full.engine.start(STREAM);
    await w.settle(fresh.engine, full.engine);
    expect(await fresh.local.confirmedFloor(STREAM)).toBe(343);
    expect(await full.local.confirmedFloor(STREAM)).toBe(0);
    const log = w.node.log(STREAM);
    // Time travel before the floor says so, with the floor; after it, it works.
    const error = await fresh.engine
      .stateAt(STREAM, ledger, { position: 100 })
      .catch((e: unknown) => e);
    expect(isHistoryIncomplete(error)).toBe(true);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({
      stream: STREAM,
      floor: 343,
    });
    expect((await fresh.engine.stateAt(STREAM, ledger, { position: 344 })).state).toEqual(
      foldEvents(ledger, initialStateOf(ledger), log.slice(0, 344)),
    );
    // A fold with no start snapshot needs the whole history.
    const other = defineProjection({ ...ledger, name: "other" });
    expect(
      isHistoryIncomplete(await fresh.engine.state(STREAM, other).catch((e: unknown) => e)),
    ).toBe(true);

    const done = fresh.engine.backfill(STREAM);
    await w.settle(fresh.engine, full.engine);
    await done;
    expect(await fresh.local.confirmedFloor(STREAM)).toBe(0);
    expect(await fresh.local.readConfirmed(STREAM)).toEqual(log);
    expect(await fresh.local.readConfirmed(STREAM)).toEqual(await full.local.readConfirmed(STREAM));
    for (const foldable of [ledger, account, other] as Foldable[]) {
      expect((await fresh.engine.state(STREAM, foldable)).state).toEqual(
        (await full.engine.state(STREAM, foldable)).state,
      );
    }
    expect((await fresh.engine.stateAt(STREAM, ledger, { position: 100 })).state).toEqual(
      foldEvents(ledger, initialStateOf(ledger), log.slice(0, 100)),
    );
  });

  it("back-fills in the background by default, and keeps writes made before the first sync", async () => {
    const w = world();
    await filled(w, 35);
    const fresh = w.device("fresh", snapshotsOn("background"));
    fresh.transport.online = false;
    fresh.engine.setOnline(false);
    fresh.engine.start(STREAM);
    await fresh.engine.execute(STREAM, account, { deposit: 1_000 });
    await w.settle(fresh.engine);
    fresh.transport.online = true;
    fresh.engine.setOnline(true);
    await w.settle(fresh.engine);
    const log = w.node.log(STREAM);
    expect(log).toHaveLength(36);
    expect(await fresh.local.confirmedFloor(STREAM)).toBe(0);
    expect(await fresh.local.readConfirmed(STREAM)).toEqual(log);
    expect(await fresh.local.readPending(STREAM)).toEqual([]);
    expect((await fresh.engine.state(STREAM, account)).state).toEqual({
      balance: (35 * 36) / 2 + 1_000,
    });
  });

  it("syncOnce starts from the snapshot; backfill on demand connects until the history is complete", async () => {
    const w = world();
    await filled(w, 64);
    const fresh = w.device("fresh", snapshotsOn("on-demand"));
    const once = fresh.engine.syncOnce(STREAM);
    await w.settle(fresh.engine);
    await once;
    expect(await fresh.engine.historyFloor(STREAM)).toBe(60);
    expect(fresh.engine.syncStatus(STREAM).state).toBe("offline");
    const done = fresh.engine.backfill(STREAM);
    await w.settle(fresh.engine);
    await done;
    expect(await fresh.engine.historyFloor(STREAM)).toBe(0);
    expect(await fresh.local.readConfirmed(STREAM)).toEqual(w.node.log(STREAM));
    expect(fresh.engine.syncStatus(STREAM).state).toBe("offline");
    await fresh.engine.backfill(STREAM); // complete already: resolves at once
  });

  it("an epoch reset after a snapshot start drops the floor and the start states, and replays the new log", async () => {
    const w = world();
    await filled(w, 52);
    const fresh = w.device("fresh", snapshotsOn());
    fresh.engine.start(STREAM);
    await w.settle(fresh.engine);
    expect(await fresh.local.confirmedFloor(STREAM)).toBe(50);
    fresh.engine.stop(STREAM);
    await w.settle(fresh.engine);
    w.node.resetStream(STREAM);
    const other = w.device("other");
    other.engine.start(STREAM);
    for (let i = 0; i < 3; i++) await other.engine.execute(STREAM, account, { deposit: 10 });
    await w.settle(other.engine);
    fresh.engine.start(STREAM);
    await w.settle(fresh.engine, other.engine);
    expect(await fresh.local.confirmedFloor(STREAM)).toBe(0);
    expect(await fresh.local.readStartSnapshots(STREAM)).toEqual([]);
    expect(await fresh.local.readConfirmed(STREAM)).toEqual(w.node.log(STREAM));
    expect((await fresh.engine.state(STREAM, account)).state).toEqual({ balance: 30 });
  });

  it("falls back to the full replay when a version differs, a state is missing or there is none yet", async () => {
    const cases: Array<[string, ReturnType<typeof world>, number, NetworkDeviceOptions]> = [
      [
        "another projection version",
        world(),
        30,
        { snapshots: { projections: [{ ...ledger, version: 2 }], backfill: "on-demand" } },
      ],
      ["a state the node does not keep", world(10, [account]), 30, snapshotsOn()],
      ["none yet", world(), 9, snapshotsOn()],
      ["no snapshots asked for", world(), 30, {}],
    ];
    for (const [label, w, count, options] of cases) {
      await filled(w, count);
      const fresh = w.device("fresh", options);
      fresh.engine.start(STREAM);
      await w.settle(fresh.engine);
      expect(await fresh.local.confirmedFloor(STREAM), label).toBe(0);
      expect(await fresh.local.readConfirmed(STREAM), label).toEqual(w.node.log(STREAM));
    }
  });

  it("never starts a device that already holds the stream from snapshots", async () => {
    const w = world();
    await filled(w, 15);
    const device = w.device("d", snapshotsOn());
    device.engine.start(STREAM);
    await w.settle(device.engine);
    expect(await device.local.confirmedFloor(STREAM)).toBe(10);
    const done = device.engine.backfill(STREAM);
    await w.settle(device.engine);
    await done;
    expect(await device.local.confirmedFloor(STREAM)).toBe(0);
    device.engine.stop(STREAM);
    const writer = w.device("writer2");
    writer.engine.start(STREAM);
    for (let i = 0; i < 20; i++) await writer.engine.execute(STREAM, account, { deposit: 1 });
    await w.settle(writer.engine, device.engine);
    device.engine.start(STREAM);
    await w.settle(device.engine, writer.engine);
    expect(await device.local.confirmedFloor(STREAM)).toBe(0);
    expect(await device.local.readConfirmed(STREAM)).toEqual(w.node.log(STREAM));
  });
});

// MemoryNode prunes the snapshots it keeps as the node does (docs/architecture.md, "Snapshots for
// new devices"): each save keeps the newest KEPT_SNAPSHOTS states of the fold's version it saved
// and drops the fold's other versions, and what it serves stays the fold of the whole log.
import { defineProjection, foldEvents, initialStateOf, MemoryLocalLog } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account, deposited, withdrawn } from "../__fixtures__/account.ts";
import { createSyncEngine } from "../client/sync-engine.ts";
import { KEPT_SNAPSHOTS, type SnapshotWant } from "../protocol/snapshots.ts";
import { createLoopbackTransport } from "./loopback-transport.ts";
import { MemoryNode } from "./memory-node.ts";

const STREAM = "account:1";

const ledger = (version: number) =>
  defineProjection({
    name: "ledger",
    version,
    events: [deposited, withdrawn],
    initialState: [] as number[],
    handlers: {
      "money.deposited": (state, { data }) => [...state, data.amount],
      "money.withdrawn": (state, { data }) => [...state, -data.amount],
    },
  });

describe("MemoryNode's snapshot pruning", () => {
  it("keeps the newest states of each fold's version and drops the versions a redeploy superseded", async () => {
    const every = 10;
    const node = new MemoryNode({
      snapshots: { deciders: [account], projections: [ledger(1)], every },
    });
    const transport = createLoopbackTransport(node);
    const writer = createSyncEngine({ local: new MemoryLocalLog(), transport, device: "writer" });
    const wants = (version: number): SnapshotWant[] => [
      { kind: "decider", name: "account", version: 1 },
      { kind: "projection", name: "ledger", version },
    ];
    let written = 0;
    /** Writes `count` more deposits (1, 2, 3, ...) and asks for the states, as a new device does. */
    const grow = async (count: number, version: number) => {
      for (let i = 0; i < count; i++) {
        written += 1;
        await writer.execute(STREAM, account, { deposit: written });
      }
      await writer.syncOnce(STREAM);
      return transport.snapshots!(STREAM, wants(version));
    };

    const positions: number[] = [];
    for (let round = 1; round <= KEPT_SNAPSHOTS + 2; round++) {
      const answer = await grow(every, 1);
      positions.push(answer.position);
      expect(answer.position).toBe(round * every);
      expect(answer.unavailable).toEqual([]);
    }
    const newest = positions.slice(-KEPT_SNAPSHOTS).map((position) => ({ version: 1, position }));
    expect(node.keptSnapshots(STREAM, { kind: "projection", name: "ledger" })).toEqual(newest);
    expect(node.keptSnapshots(STREAM, { kind: "decider", name: "account" })).toEqual(newest);
    expect(node.snapshotCount(STREAM)).toBe(2 * KEPT_SNAPSHOTS);

    // The app ships ledger v2: v1's states stay until ledger's next save, which drops them all.
    node.redeploy({ snapshots: { deciders: [account], projections: [ledger(2)], every } });
    expect(node.keptSnapshots(STREAM, { kind: "projection", name: "ledger" })).toEqual(newest);
    const answer = await grow(every, 2);
    const position = (KEPT_SNAPSHOTS + 3) * every;
    expect(answer.position).toBe(position);
    expect(node.keptSnapshots(STREAM, { kind: "projection", name: "ledger" })).toEqual([
      { version: 2, position },
    ]);
    // The decider's version did not change: its newest states roll on.
    expect(node.keptSnapshots(STREAM, { kind: "decider", name: "account" })).toEqual(
      [...positions, position].slice(-KEPT_SNAPSHOTS).map((at) => ({ version: 1, position: at })),
    );
    // Served states are still the folds of the log up to their position.
    const log = node.log(STREAM);
    expect(answer.snapshots).toEqual([
      { ...wants(2)[0]!, state: foldEvents(account, initialStateOf(account), log) },
      { ...wants(2)[1]!, state: foldEvents(ledger(2), initialStateOf(ledger(2)), log) },
    ]);
    // The superseded version is not served.
    expect((await transport.snapshots!(STREAM, wants(1))).unavailable).toEqual([
      { kind: "projection", name: "ledger", version: 1, reason: "version" },
    ]);
    writer.close();
  });
});

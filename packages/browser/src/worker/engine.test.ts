// Node tier: the worker's engine on fake-indexeddb (no comlink, no worker).
import { isChronicleError } from "@chronicle/core";
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { IDBFactory } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { probes } from "../__fixtures__/board.ts";
import { openBoardEngine } from "../__fixtures__/engine.ts";
import type { HostStatus } from "../shared/host-api.ts";
import { SyncTables } from "../store/sync-tables.ts";
import type { EngineOptions } from "./engine-options.ts";

let factory = new IDBFactory();
const open = (extra: Partial<EngineOptions> = {}) => openBoardEngine("engine-test", factory, extra);

afterEach(() => {
  factory = new IDBFactory();
  probes.onProject = undefined;
});

describe("ChronicleEngine", () => {
  it("commits a command's events and the projection records they move together", async () => {
    const engine = await open();
    const result = await engine.execute("board:1", "board", {
      type: "addCard",
      id: "c1",
      title: "Write docs",
    });
    expect(result.head).toBe(1);
    expect(result.events[0]).toMatchObject({ type: "card.added", position: 1 });
    expect(result.events[0]!.meta.device).toBe(engine.deviceId);
    expect(result.projections).toEqual([
      expect.objectContaining({ key: "board-view/board:1", checkpoint: 1 }),
    ]);
    const stored = await engine.store.db.projections.get("board-view/board:1");
    expect(stored).toMatchObject({ checkpoint: 1, state: { count: 1 } });
    await engine.close();
  });

  it("writes nothing, events or projections, when the transaction fails midway", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", { type: "addCard", id: "c0", title: "first" });
    // A Dexie hook throwing on the 50th row stands in for the browser running out of quota.
    let rows = 0;
    const creating = () => {
      if (++rows === 50) throw new DOMException("quota", "QuotaExceededError");
    };
    engine.store.db.events.hook("creating", creating);
    const error = await engine
      .execute("board:1", "board", { type: "addMany", count: 100, prefix: "m" })
      .catch((e: unknown) => e);
    engine.store.db.events.hook("creating").unsubscribe(creating);
    expect(isChronicleError(error, "quota")).toBe(true);
    expect(await engine.store.head("board:1")).toBe(1);
    expect(await engine.store.db.projections.get("board-view/board:1")).toMatchObject({
      checkpoint: 1,
      state: { count: 1 },
    });
    // And the store still works afterwards.
    await engine.execute("board:1", "board", { type: "addMany", count: 100, prefix: "m" });
    expect(await engine.store.head("board:1")).toBe(101);
    await engine.close();
  });

  it("refuses commands with the decider's coded error and unknown names with validation", async () => {
    const engine = await open();
    await expect(
      engine.execute("board:1", "board", { type: "removeCard", id: "nope" }),
    ).rejects.toMatchObject({ code: "not-found" });
    await expect(engine.execute("board:1", "nope", {})).rejects.toMatchObject({
      code: "validation",
    });
    await expect(
      engine.append("board:1", [{ type: "card.added", data: { id: "x", title: "" } }]),
    ).rejects.toMatchObject({ code: "validation" });
    expect(await engine.store.head("board:1")).toBe(0);
    await engine.close();
  });

  it("keeps writing when a projection handler throws, and reports it", async () => {
    const statuses: HostStatus[] = [];
    const engine = await open({ onStatus: (status) => statuses.push(status) });
    await engine.execute("board:1", "board", { type: "addCard", id: "a", title: "A" });
    probes.onProject = () => {
      throw new Error("broken view");
    };
    await engine.execute("board:1", "board", { type: "addCard", id: "b", title: "B" });
    probes.onProject = undefined;
    expect(await engine.store.head("board:1")).toBe(2);
    expect(statuses).toContainEqual(
      expect.objectContaining({ type: "projection-error", projection: "board-view" }),
    );
    // The record stayed at its checkpoint; a read catches up from there.
    expect((await engine.store.db.projections.get("board-view/board:1"))?.checkpoint).toBe(1);
    expect((await engine.read("board-view", "board:1")).state).toMatchObject({ count: 2 });
    await engine.close();
  });

  it("leads alone without Web Locks and saves decider snapshots as leader", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", { type: "addMany", count: 1000, prefix: "s" });
    expect(engine.isLeader).toBe(true);
    expect(await engine.snapshots.load("decider/board/board:1")).toMatchObject({ position: 1000 });
    await engine.close();
  });

  it("watch delivers the current record and then each commit", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", { type: "addCard", id: "a", title: "A" });
    const seen: number[] = [];
    let next: (() => void) | undefined;
    engine.watch("board-view", "board:1", (record) => {
      seen.push(record.checkpoint);
      next?.();
    });
    await new Promise<void>((resolve) => {
      next = () => seen.length === 1 && resolve();
      if (seen.length === 1) resolve();
    });
    const second = new Promise<void>((resolve) => {
      next = () => seen.length === 2 && resolve();
    });
    await engine.execute("board:1", "board", { type: "addCard", id: "b", title: "B" });
    await second;
    expect(seen).toEqual([1, 2]);
    await engine.close();
  });

  it("reloads a decider's cached state when the confirmed log was replaced (epoch reset)", async () => {
    const engine = await open();
    await engine.execute("board:1", "board", { type: "addCard", id: "a", title: "A" });
    await engine.execute("board:1", "board", { type: "addCard", id: "b", title: "B" });
    const sync = new SyncTables(engine.store);
    await sync.resetConfirmed("board:1", "epoch-2");
    const [remote] = sampleEvents("board:1", 1).map((event) => ({
      ...event,
      type: "card.added",
      data: { id: "r", title: "R" },
      position: 1,
      recordedAt: 1,
    }));
    await sync.insertConfirmed("board:1", [remote!]);
    // "a" is gone from the new log: adding it again is valid, and lands after the remote event.
    const result = await engine.execute("board:1", "board", {
      type: "addCard",
      id: "a",
      title: "A",
    });
    expect(result.head).toBe(2);
    await expect(
      engine.execute("board:1", "board", { type: "addCard", id: "r", title: "again" }),
    ).rejects.toMatchObject({ code: "validation" });
    await engine.close();
  });
});

// Tokens expire (stream-session.ts, rule 8), on virtual time: a MemoryNode that checks tokens and
// closes a connection at its token's expiry (an `unauthorized` frame, then 4401), as the real
// node does. A long-lived engine keeps syncing across expiries by asking its token function
// again; a refused fresh token or a failing token function shows as `unauthorized` and the
// engine recovers by itself once a token works.
import type { SyncStatus } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account } from "../__fixtures__/account.ts";
import { networkDevice } from "../__fixtures__/network-device.ts";
import { MemoryNetwork } from "../testing/memory-network.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import type { SyncEngine } from "./sync-engine.ts";

const STREAM = "account:1";
const TTL = 3_000;

function world(seed = 11) {
  let network: MemoryNetwork | undefined;
  const clock = () => network!;
  // Tokens are "t:<expiresAt>" on the network's virtual clock; anything else is refused.
  const node = new MemoryNode({
    now: () => clock().now,
    scheduler: {
      setTimeout: (callback, ms) => clock().scheduler.setTimeout(callback, ms),
      clearTimeout: (handle) => clock().scheduler.clearTimeout(handle),
    },
    auth: (token) => {
      const match = /^t:(\d+)$/.exec(token ?? "");
      return match ? { expiresAt: Number(match[1]) } : undefined;
    },
  });
  network = new MemoryNetwork(node, seed);
  const net = network;
  const tokens = { mode: "fresh" as "fresh" | "refused" | "throws", issued: 0 };
  const shortLived = () => {
    tokens.issued++;
    if (tokens.mode === "throws") throw new Error("login required");
    return tokens.mode === "refused" ? "forged" : `t:${Math.floor(net.now) + TTL}`;
  };
  const device = (name: string, token: () => string) => {
    const { local, engine } = networkDevice(net, name, { token });
    const states: SyncStatus[] = [];
    engine.onSyncStatus(STREAM, (status) => states.push(status));
    return { local, engine, states };
  };
  /** Runs the network (virtual time included) until `check` holds. */
  const runUntil = async (
    engines: SyncEngine[],
    check: () => boolean | Promise<boolean>,
    withinMs = 120_000,
  ) => {
    const deadline = net.now + withinMs;
    for (;;) {
      for (const engine of engines) await engine.idle();
      if (await check()) return;
      if (net.now >= deadline) throw new Error(`not reached within ${withinMs} virtual ms`);
      // Time moves on even when no timer is due before the step.
      net.scheduler.setTimeout(() => {}, 100);
      await net.run({ until: net.now + 100 });
    }
  };
  return { node, network: net, tokens, shortLived, device, runUntil };
}

describe("token lifecycle", () => {
  it("a long-lived engine on 3-second tokens keeps syncing across five expiries", async () => {
    const { node, network, tokens, shortLived, device, runUntil } = world();
    const writer = device("writer", shortLived);
    const reader = device("reader", () => "t:999999999999");
    writer.engine.start(STREAM);
    reader.engine.start(STREAM);
    const engines = [writer.engine, reader.engine];
    for (let round = 1; round <= 5; round++) {
      const expiry = network.now + TTL;
      // The token of the open connection expires: the node closes it with 4401.
      await runUntil(engines, () => network.now > expiry + 50);
      await writer.engine.execute(STREAM, account, { deposit: round });
      await runUntil(
        engines,
        () =>
          reader.engine.syncStatus(STREAM).confirmedHead === round &&
          writer.engine.syncStatus(STREAM).state === "synced",
      );
    }
    expect(node.log(STREAM).map((event) => event.data)).toEqual(
      [1, 2, 3, 4, 5].map((amount) => ({ amount })),
    );
    expect(await reader.local.readConfirmed(STREAM)).toEqual(node.log(STREAM));
    expect(tokens.issued).toBeGreaterThanOrEqual(6); // a fresh token after every expiry
    // An expiry never looked like a failure to the app.
    expect(writer.states.map((s) => s.state)).not.toContain("unauthorized");
    expect(writer.states.map((s) => s.state)).not.toContain("error");
    expect(writer.states.some((s) => s.lastError?.code === "unauthorized")).toBe(true);
  });

  it("a refused fresh token shows unauthorized, retries on the backoff, and recovers by itself", async () => {
    const { node, network, tokens, shortLived, device, runUntil } = world();
    const writer = device("writer", shortLived);
    const reader = device("reader", () => "t:999999999999");
    writer.engine.start(STREAM);
    reader.engine.start(STREAM);
    const engines = [writer.engine, reader.engine];
    await runUntil(engines, () => writer.engine.syncStatus(STREAM).state === "synced");

    tokens.mode = "refused"; // the user's session ended: no fresh token is accepted
    await runUntil(engines, () => writer.engine.syncStatus(STREAM).state === "unauthorized");
    await writer.engine.execute(STREAM, account, { deposit: 7 });
    await writer.engine.idle();
    expect(writer.engine.syncStatus(STREAM)).toMatchObject({
      state: "unauthorized",
      pending: 1,
      lastError: { code: "unauthorized" },
    });
    // It keeps asking for a token on the backoff schedule, showing unauthorized meanwhile.
    const asked = tokens.issued;
    const since = writer.states.length;
    await runUntil(engines, () => network.now > 20_000 + TTL);
    expect(tokens.issued).toBeGreaterThan(asked + 2);
    expect(writer.states.slice(since).map((s) => s.state)).not.toContain("connecting");
    expect(node.log(STREAM)).toEqual([]);

    tokens.mode = "fresh"; // the user logged in again
    await runUntil(
      engines,
      () =>
        writer.engine.syncStatus(STREAM).state === "synced" &&
        reader.engine.syncStatus(STREAM).confirmedHead === 1,
      40_000,
    );
    expect(writer.engine.syncStatus(STREAM).lastError).toBeUndefined();
    expect(node.log(STREAM).map((event) => event.data)).toEqual([{ amount: 7 }]);
  });

  it("a token function that fails shows unauthorized with its reason at once, then recovers", async () => {
    const { node, tokens, shortLived, device, runUntil } = world();
    tokens.mode = "throws";
    const writer = device("writer", shortLived);
    await writer.engine.execute(STREAM, account, { deposit: 2 });
    writer.engine.start(STREAM);
    await runUntil(
      [writer.engine],
      () => writer.engine.syncStatus(STREAM).state === "unauthorized",
    );
    expect(writer.engine.syncStatus(STREAM)).toMatchObject({
      state: "unauthorized",
      lastError: { code: "unauthorized", details: { tokenFunction: true } },
    });
    expect(writer.engine.syncStatus(STREAM).lastError?.message).toContain("login required");
    expect(tokens.issued).toBe(1); // no second call before the backoff
    tokens.mode = "fresh";
    await runUntil([writer.engine], () => writer.engine.syncStatus(STREAM).state === "synced");
    expect(node.log(STREAM)).toHaveLength(1);
  });

  it("syncOnce rejects when the stream becomes unauthorized, and finishes the sync once a token works", async () => {
    const { node, tokens, shortLived, device, runUntil } = world();
    tokens.mode = "refused";
    const writer = device("writer", shortLived);
    await writer.engine.execute(STREAM, account, { deposit: 4 });
    const once = writer.engine.syncOnce(STREAM).catch((error: unknown) => error);
    let settled: unknown;
    void once.then((value) => {
      settled = value;
    });
    await runUntil([writer.engine], () => settled !== undefined);
    expect(settled).toMatchObject({ code: "unauthorized" });
    tokens.mode = "fresh";
    await runUntil([writer.engine], () => node.log(STREAM).length === 1);
    await runUntil([writer.engine], () => writer.engine.syncStatus(STREAM).state === "offline");
    expect(await writer.local.readPending(STREAM)).toEqual([]);
  });

  it("going offline and online while unauthorized tries a token at once", async () => {
    const { tokens, shortLived, device, runUntil, network } = world();
    tokens.mode = "refused";
    const writer = device("writer", shortLived);
    writer.engine.start(STREAM);
    await runUntil(
      [writer.engine],
      () => writer.engine.syncStatus(STREAM).state === "unauthorized",
    );
    // Let the backoff grow long, then come back online: a token is asked for at once.
    await runUntil([writer.engine], () => network.now > 60_000);
    writer.engine.setOnline(false);
    await runUntil([writer.engine], () => writer.engine.syncStatus(STREAM).state === "offline");
    tokens.mode = "fresh";
    const back = network.now;
    writer.engine.setOnline(true);
    await runUntil([writer.engine], () => writer.engine.syncStatus(STREAM).state === "synced");
    expect(network.now - back).toBeLessThan(1_000);
  });
});

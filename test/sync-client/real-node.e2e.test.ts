// The sync client against a real node: three Node devices (real WebSockets, `ws`) issue random
// rebaseable and strict commands, go offline and online, while the node process is killed
// (SIGKILL to its group) and restarted on the same state. Afterwards every device holds exactly
// the node's log, every command is in it once or was reported rejected, and no strict
// withdrawal drove the balance negative.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChronicleError,
  type ConfirmedEvent,
  defineDecider,
  defineEvent,
  foldEvents,
  initialStateOf,
  MemoryLocalLog,
  type SyncStatus,
} from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport, type SyncEngine } from "@chronicle/sync";
import { seededRandom } from "@chronicle/sync/testing";
import { afterAll, expect, it } from "vitest";
import WebSocket from "ws";
import { z } from "zod";
import { devToken, type RunningNode, startNode } from "../sync-node/node-process.ts";

const deposited = defineEvent({
  type: "money.deposited",
  schema: z.object({ amount: z.number().int().positive() }),
});
const withdrawn = defineEvent({
  type: "money.withdrawn",
  schema: z.object({ amount: z.number().int().positive() }),
});
const account = defineDecider({
  name: "account",
  events: [deposited, withdrawn],
  initialState: { balance: 0 },
  evolve: (s, e) => ({
    balance: s.balance + (e.type === "money.deposited" ? e.data.amount : -e.data.amount),
  }),
  decide: (c: { deposit: number } | { withdraw: number }, s) => {
    if ("deposit" in c) return deposited.create({ amount: c.deposit });
    if (s.balance < c.withdraw) throw new ChronicleError("validation", "insufficient funds");
    return withdrawn.create({ amount: c.withdraw });
  },
});

const STREAM = "account:e2e";
// A fixed seed under CI, a new one each local run; E2E_SEED replays one.
const SEED = Number(process.env.E2E_SEED ?? (process.env.CI ? 1129 : Date.now() % 100_000));
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-client-e2e-"));
const nodes: RunningNode[] = [];
const engines: SyncEngine[] = [];
afterAll(async () => {
  for (const engine of engines) engine.close();
  for (const node of nodes) await node.stop("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

/** Resolves when every engine is synced, with nothing pending, at one and the same head. */
function whenAllSynced(all: SyncEngine[]): Promise<number> {
  return new Promise((resolve) => {
    const stops: Array<() => void> = [];
    let subscribed = false;
    let done = false;
    const check = () => {
      // onSyncStatus calls at once: wait until every engine is subscribed.
      if (!subscribed || done) return;
      const statuses = all.map((engine) => engine.syncStatus(STREAM));
      const head = statuses[0]!.confirmedHead;
      done = statuses.every(
        (s: SyncStatus) => s.state === "synced" && s.pending === 0 && s.confirmedHead === head,
      );
      if (!done) return;
      for (const stop of stops) stop();
      resolve(head);
    };
    for (const engine of all) stops.push(engine.onSyncStatus(STREAM, check));
    subscribed = true;
    check();
  });
}

async function nodeLog(url: string, token: string): Promise<ConfirmedEvent[]> {
  const events: ConfirmedEvent[] = [];
  for (;;) {
    const response = await fetch(
      `${url}/v1/streams/${STREAM}/events?after=${events.length}&limit=1000`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    const page = (await response.json()) as { events: ConfirmedEvent[]; more: boolean };
    events.push(...page.events);
    if (!page.more) return events;
  }
}

it(`converges with the real node across a SIGKILL and restart (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  let node = await startNode({ persistTo: stateDir });
  nodes.push(node);
  const token = await devToken(node, "user");
  const issued = new Map<string, boolean>(); // command id -> strict
  const rejected = new Set<string>();
  const devices = ["d0", "d1", "d2"].map((name) => {
    const local = new MemoryLocalLog();
    const engine = createSyncEngine({
      local,
      transport: createWebSocketTransport({ url: node.url, token, WebSocket: WebSocket as never }),
      device: name,
      actor: "user",
      deciders: [account],
      backoff: { initialMs: 50, maxMs: 500 },
    });
    engine.onRejected((notice) => notice.commandId && rejected.add(notice.commandId));
    if (process.env.E2E_DEBUG)
      engine.onSyncStatus(STREAM, (s) => console.log(name, JSON.stringify(s)));
    engine.start(STREAM);
    engines.push(engine);
    return { name, local, engine };
  });

  const act = async (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      // Let sockets make progress between commands, so pushes are in flight when the node dies.
      await new Promise((resolve) => setImmediate(resolve));
      const device = devices[Math.floor(random() * devices.length)]!;
      const roll = random();
      if (roll < 0.15) {
        device.engine.setOnline(!device.engine.online);
        continue;
      }
      const strict = roll > 0.7;
      const command = strict
        ? { withdraw: 1 + Math.floor(random() * 8) }
        : { deposit: 1 + Math.floor(random() * 5) };
      try {
        const [event] = await device.engine.execute(STREAM, account, command, { strict });
        issued.set(event!.meta.causationId!, strict);
      } catch {
        // refused locally: not enough money on this device's optimistic state
      }
    }
  };

  await act(40);
  await node.stop("SIGKILL"); // mid-run: pushes may be in flight
  await act(20); // writes while the node is down stay pending
  node = await startNode({ persistTo: stateDir, port: node.port });
  nodes.push(node);
  await act(20);
  for (const device of devices) device.engine.setOnline(true);

  const head = await whenAllSynced(devices.map((d) => d.engine));
  const log = await nodeLog(node.url, token);
  expect(log).toHaveLength(head);

  for (const device of devices) {
    expect(await device.local.readPending(STREAM), device.name).toEqual([]);
    expect(await device.local.readConfirmed(STREAM), device.name).toEqual(log);
  }
  let state = initialStateOf(account);
  for (const event of log) {
    state = foldEvents(account, state, [event]);
    expect(state.balance).toBeGreaterThanOrEqual(0);
  }
  const applied = new Map<string, number>();
  for (const event of log)
    applied.set(event.meta.causationId!, (applied.get(event.meta.causationId!) ?? 0) + 1);
  for (const [commandId, strict] of issued) {
    const count = applied.get(commandId) ?? 0;
    if (strict) expect(count + (rejected.has(commandId) ? 1 : 0), `strict ${commandId}`).toBe(1);
    else expect(count, `rebaseable ${commandId}`).toBe(1);
  }
}, 120_000);

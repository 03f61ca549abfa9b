// Convergence, as a seeded property: 3-6 devices issue random commands while going offline and
// online, restarting (reopening their storage), over a network that drops, duplicates, reorders
// and cuts frames. Afterwards every device holds exactly the node's log, nothing is lost or
// duplicated, and every strict command was applied once or reported rejected.
// Replay a failure with the seed fast-check prints: CONVERGENCE_SEED=<seed> npm test -- convergence
import { type ConfirmedEvent, foldEvents, initialStateOf, MemoryLocalLog } from "@chronicle/core";
import fc from "fast-check";
import { expect, it } from "vitest";
import { account } from "../__fixtures__/account.ts";
import { MemoryNetwork, type MemoryTransport } from "../testing/memory-network.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import { createSyncEngine, type SyncEngine } from "./sync-engine.ts";

const STREAM = "account:shared";

type Action =
  | { kind: "deposit"; device: number; amount: number }
  | { kind: "withdraw"; device: number; amount: number }
  | { kind: "online"; device: number; online: boolean }
  | { kind: "faults"; drop: number; duplicate: number; reorder: number; disconnect: number }
  | { kind: "run"; steps: number }
  | { kind: "restart"; device: number };

const rate = fc.double({ min: 0, max: 0.2, noNaN: true });
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("deposit" as const),
      device: fc.nat(5),
      amount: fc.integer({ min: 1, max: 9 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("withdraw" as const),
      device: fc.nat(5),
      amount: fc.integer({ min: 1, max: 15 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("online" as const),
      device: fc.nat(5),
      online: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("faults" as const),
      drop: rate,
      duplicate: rate,
      reorder: rate,
      disconnect: fc.double({ min: 0, max: 0.05, noNaN: true }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("run" as const),
      steps: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const), device: fc.nat(5) }) },
);

interface Device {
  name: string;
  local: MemoryLocalLog;
  transport: MemoryTransport;
  engine: SyncEngine;
  online: boolean;
}

async function scenario(deviceCount: number, actions: Action[], seed: number): Promise<void> {
  const node = new MemoryNode({ actor: "user" });
  const network = new MemoryNetwork(node, seed);
  const issued = new Map<string, { strict: boolean }>();
  const rejected = new Set<string>();

  const boot = (name: string, local: MemoryLocalLog, online: boolean): Device => {
    const transport = network.transport();
    transport.online = online;
    const engine = createSyncEngine({
      local,
      transport,
      device: name,
      actor: "user",
      deciders: [account],
      scheduler: network.scheduler,
      online,
      requestTimeoutMs: 5_000,
    });
    engine.onRejected((notice) => {
      if (notice.commandId) rejected.add(notice.commandId);
    });
    if (process.env.CONVERGENCE_DEBUG)
      engine.onSyncStatus(STREAM, (s) => console.log(name, network.now, JSON.stringify(s)));
    engine.start(STREAM);
    return { name, local, transport, engine, online };
  };
  const devices = Array.from({ length: deviceCount }, (_, i) =>
    boot(`d${i}`, new MemoryLocalLog(), true),
  );
  const pick = (index: number) => devices[index % devices.length]!;

  for (const step of actions) {
    switch (step.kind) {
      case "deposit":
      case "withdraw": {
        const device = pick(step.device);
        const strict = step.kind === "withdraw";
        const command =
          step.kind === "deposit" ? { deposit: step.amount } : { withdraw: step.amount };
        try {
          const events = await device.engine.execute(STREAM, account, command, { strict });
          issued.set(events[0]!.meta.causationId!, { strict });
        } catch {
          // Refused locally (not enough money on the optimistic state): nothing was issued.
        }
        break;
      }
      case "online": {
        const device = pick(step.device);
        device.online = step.online;
        device.transport.online = step.online;
        device.engine.setOnline(step.online);
        break;
      }
      case "faults":
        network.faults = step;
        break;
      case "run":
        await network.run({ maxSteps: step.steps });
        break;
      case "restart": {
        const index = step.device % devices.length;
        const old = devices[index]!;
        old.engine.close();
        old.transport.online = false; // the old process is gone with its sockets
        devices[index] = boot(old.name, old.local, old.online);
        break;
      }
    }
  }

  // Heal: no faults, everyone online, run until nothing is left to do.
  network.faults = {};
  for (const device of devices) {
    device.transport.online = true;
    device.engine.setOnline(true);
  }
  // Ten virtual minutes: every backoff and idle catch-up pull gets its turn.
  const deadline = network.now + 600_000;
  let settled = false;
  for (let round = 0; round < 50 && !settled; round++) {
    await network.run({ maxSteps: 200_000, until: deadline });
    for (const device of devices) await device.engine.idle();
    settled = network.quiet && network.nextTimerDue > deadline;
  }
  expect(settled, "the network settles").toBe(true);

  const log = node.log(STREAM);
  expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
  expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
  for (const device of devices) {
    expect(await device.local.readPending(STREAM), `${device.name} has nothing pending`).toEqual(
      [],
    );
    expect(await device.local.readConfirmed(STREAM), `${device.name} holds the node's log`).toEqual(
      log,
    );
    expect(device.engine.syncStatus(STREAM)).toMatchObject({
      state: "synced",
      pending: 0,
      confirmedHead: log.length,
    });
  }

  // Strict withdrawals were decided on the exact head: the balance never goes negative.
  let state = initialStateOf(account);
  for (const event of log) {
    state = foldEvents(account, state, [event]);
    expect(state.balance).toBeGreaterThanOrEqual(0);
  }

  // Nothing lost, nothing duplicated: every command's effect is in the log once, or it was rejected.
  const byCommand = new Map<string, ConfirmedEvent[]>();
  for (const event of log) {
    const list = byCommand.get(event.meta.causationId!) ?? [];
    list.push(event);
    byCommand.set(event.meta.causationId!, list);
  }
  for (const [commandId, { strict }] of issued) {
    const applied = byCommand.get(commandId)?.length ?? 0;
    if (strict) {
      expect(
        applied + (rejected.has(commandId) ? 1 : 0),
        `strict ${commandId}: applied once or rejected`,
      ).toBe(1);
    } else {
      expect(applied, `rebaseable ${commandId} applied once`).toBe(1);
      expect(rejected.has(commandId)).toBe(false);
    }
  }
  expect(byCommand.size).toBe(
    issued.size - [...issued.keys()].filter((id) => rejected.has(id)).length,
  );
}

// Replays one counterexample exactly as fast-check printed it: CONVERGENCE_EXAMPLE='[6,[...],0]'
it.runIf(process.env.CONVERGENCE_EXAMPLE)("replays a counterexample", async () => {
  const [devices, actions, seed] = JSON.parse(process.env.CONVERGENCE_EXAMPLE!) as [
    number,
    Action[],
    number,
  ];
  await scenario(devices, actions, seed);
});

it("converges under random offline edits, faults and restarts (200 seeded runs)", async () => {
  // Under CI the seed is fixed (test/fixed-seed.setup.ts); CONVERGENCE_SEED replays a run.
  const seed = process.env.CONVERGENCE_SEED ? Number(process.env.CONVERGENCE_SEED) : undefined;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 3, max: 6 }),
      fc.array(action, { minLength: 5, maxLength: 60 }),
      fc.nat(),
      scenario,
    ),
    {
      numRuns: Number(process.env.CONVERGENCE_RUNS ?? 200),
      ...(seed === undefined ? {} : { seed }),
    },
  );
}, 600_000);

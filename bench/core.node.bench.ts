// @chronicle/core benchmarks: projection rebuild vs a hand-written loop, and command handling
// with snapshots on vs off. Ratios, measured in this process.
import {
  type ConfirmedEvent,
  createCommandHandler,
  createEnvelope,
  createProjectionRunner,
  defineDecider,
  defineEvent,
  defineProjection,
  MemoryEventStore,
  MemorySnapshotStore,
  type NewEvent,
} from "@chronicle/core";
import { it } from "vitest";
import { z } from "zod";
import { printTable, time } from "./table.ts";

const deposited = defineEvent({
  type: "money.deposited",
  schema: z.object({ amount: z.number() }),
});
const withdrawn = defineEvent({
  type: "money.withdrawn",
  schema: z.object({ amount: z.number() }),
});
type Balance = { balance: number; deposits: number; withdrawals: number };
const initial: Balance = { balance: 0, deposits: 0, withdrawals: 0 };
const handlers = {
  "money.deposited": (s: Balance, e: { data: { amount: number } }): Balance => ({
    balance: s.balance + e.data.amount,
    deposits: s.deposits + 1,
    withdrawals: s.withdrawals,
  }),
  "money.withdrawn": (s: Balance, e: { data: { amount: number } }): Balance => ({
    balance: s.balance - e.data.amount,
    deposits: s.deposits,
    withdrawals: s.withdrawals + 1,
  }),
};
const balance = defineProjection({
  name: "balance",
  events: [deposited, withdrawn],
  initialState: initial,
  handlers,
});

function makeEvents(stream: string, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) =>
    createEnvelope(stream, {
      type: i % 3 === 0 ? "money.withdrawn" : "money.deposited",
      version: 1,
      data: { amount: (i % 7) + 1 },
    }),
  );
}

async function fill(store: MemoryEventStore, stream: string, count: number) {
  const events = makeEvents(stream, count);
  for (let i = 0; i < events.length; i += 10_000)
    await store.append(stream, events.slice(i, i + 10_000));
}

it("projection rebuild: engine vs hand-written loop (1,000,000 events)", async () => {
  const count = 1_000_000;
  const store = new MemoryEventStore();
  await fill(store, "account:1", count);
  const events: ConfirmedEvent[] = await store.readStream("account:1");

  const loop = () => {
    let state = { ...initial };
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const handler = handlers[event.type as keyof typeof handlers];
      if (handler) state = handler(state, event as { data: { amount: number } });
    }
    return state;
  };
  const engine = () => createProjectionRunner({ store }).read(balance, "account:1");

  // Warm up both, then take the best of three so JIT and GC noise affect both alike.
  loop();
  await engine();
  let loopMs = Number.POSITIVE_INFINITY;
  let engineMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    loopMs = Math.min(loopMs, await time(loop));
    engineMs = Math.min(engineMs, await time(engine));
  }
  const expected = loop();
  const actual = await engine();
  if (actual.balance !== expected.balance) throw new Error("engine and loop disagree");
  printTable("Projection rebuild, 1,000,000 events (target: engine >= 0.5x loop)", [
    { case: "hand-written loop", ms: loopMs, "events/s": Math.round(count / (loopMs / 1000)) },
    {
      case: "engine (ProjectionRunner)",
      ms: engineMs,
      "events/s": Math.round(count / (engineMs / 1000)),
    },
    { case: "ratio engine/loop", ms: "", "events/s": (loopMs / engineMs).toFixed(2) },
  ]);
});

it("command handling: snapshots on vs off (100,000-event stream)", async () => {
  const account = defineDecider({
    name: "account",
    events: [deposited, withdrawn],
    initialState: initial,
    evolve: (state, event) => handlers[event.type](state, event),
    decide: (amount: number) => deposited.create({ amount }),
  });
  const measure = async (snapshotEvery: number | undefined, commands: number) => {
    const store = new MemoryEventStore();
    await fill(store, "account:1", 100_000);
    const snapshots = new MemorySnapshotStore();
    const handle = createCommandHandler(store, { ...account, snapshotEvery }, { snapshots });
    await handle("account:1", 1); // first load (and first snapshot when on)
    const ms = await time(async () => {
      for (let i = 0; i < commands; i++) await handle("account:1", 1);
    });
    return { ms, perSecond: commands / (ms / 1000) };
  };
  const off = await measure(undefined, 20);
  const on = await measure(1_000, 2_000);
  printTable("Command handling on a 100,000-event stream (load, decide, append)", [
    { case: "snapshots off", commands: 20, "commands/s": off.perSecond.toFixed(1) },
    { case: "snapshots every 1,000", commands: 2_000, "commands/s": on.perSecond.toFixed(1) },
    {
      case: "ratio on/off",
      commands: "",
      "commands/s": `${(on.perSecond / off.perSecond).toFixed(0)}x`,
    },
  ]);
});

// Counted work (P8 in process-runner.ts): how many instance records the runner reads from its
// ProcessStore, never how long it takes.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineDecider } from "../decider/define-decider.ts";
import { defineEvent } from "../events/define-event.ts";
import { createEnvelope } from "../events/envelope.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createVirtualClock } from "./clock.ts";
import { MemoryProcessStore } from "./memory-process-store.ts";
import { defineProcess, send } from "./process-definition.ts";
import { createProcessRunner } from "./process-runner.ts";

const hourMs = 3_600_000;

const ticked = defineEvent({ type: "tick.counted", schema: z.object({ key: z.string() }) });

/** Counts ticks per key; a key not ticked for an hour expires. */
const counter = defineProcess({
  name: "counter",
  events: [ticked],
  correlate: (event) => event.data.key,
  initialState: { ticks: 0, expired: false },
  on: {
    "tick.counted": (state) => ({
      state: { ...state, ticks: state.ticks + 1 },
      schedule: [{ name: "expire", after: hourMs }],
    }),
  },
  timeouts: {
    expire: (state) => ({ state: { ...state, expired: true }, done: true }),
  },
});

const noted = defineEvent({ type: "tick.noted", schema: z.object({ key: z.string() }) });

const notes = defineDecider({
  name: "notes",
  events: [noted],
  initialState: { count: 0 },
  evolve: (state) => ({ count: state.count + 1 }),
  decide: (command: { type: "note"; key: string }) => noted.create({ key: command.key }),
});

/** Notes every tick in the key's notes stream: a command per event. */
const noter = defineProcess({
  name: "noter",
  events: [ticked],
  correlate: (event) => event.data.key,
  initialState: { ticks: 0 },
  on: {
    "tick.counted": (state, event) => ({
      state: { ticks: state.ticks + 1 },
      commands: [send(notes, `notes-${event.data.key}`, { type: "note", key: event.data.key })],
    }),
  },
});

/** A memory store that counts the instance records read from it. */
class CountingProcessStore extends MemoryProcessStore {
  recordsRead = 0;
  writes = 0;
  override async commit(write: Parameters<MemoryProcessStore["commit"]>[0]) {
    await super.commit(write);
    this.writes++;
  }
  override async instance(process: string, id: string) {
    const record = await super.instance(process, id);
    this.recordsRead++;
    return record;
  }
  override async instances(query?: Parameters<MemoryProcessStore["instances"]>[0]) {
    const records = await super.instances(query);
    this.recordsRead += Math.max(1, records.length);
    return records;
  }
}

function setup(processStore = new CountingProcessStore()) {
  const clock = createVirtualClock(0);
  const store = new MemoryEventStore({ now: clock.now });
  const runner = () => createProcessRunner({ store, processStore, clock, processes: [counter] });
  const tick = async (key: string) => {
    await store.append(`ticks-${key}`, [
      createEnvelope(`ticks-${key}`, { type: "tick.counted", version: 1, data: { key } }),
    ]);
  };
  return { clock, store, processStore, runner, tick };
}

describe("process runner work", () => {
  it("a drain with 1,000 waiting instances and no due deadline reads no instance record", async () => {
    const { processStore, runner, tick, clock } = setup();
    for (let index = 0; index < 1000; index++) await tick(`k${index}`);
    const running = runner();
    await running.drain();
    expect(await processStore.instances({ status: ["waiting"] })).toHaveLength(1000);
    processStore.recordsRead = 0;
    await tick("k0");
    await running.drain();
    clock.advance(hourMs / 2);
    await running.drain();
    expect(processStore.recordsRead).toBe(0);
    expect((await running.get("counter", "k0"))?.state).toEqual({ ticks: 2, expired: false });
  });

  it("handling 100 events for one instance reads the store once", async () => {
    const { processStore, runner, tick } = setup();
    const running = runner();
    await running.drain();
    processStore.recordsRead = 0;
    for (let index = 0; index < 100; index++) await tick("k");
    await running.drain();
    expect(processStore.recordsRead).toBe(1);
    expect((await running.get("counter", "k"))?.state).toEqual({ ticks: 100, expired: false });
  });

  it("fires the due deadlines from its index, reading only the instances due", async () => {
    const { processStore, runner, tick, clock } = setup();
    const first = runner();
    for (let index = 0; index < 10; index++) await tick(`k${index}`);
    await first.drain();
    clock.advance(hourMs / 2);
    for (let index = 0; index < 5; index++) await tick(`k${index}`);
    await first.drain();
    // A fresh runner (a restart) rebuilds its index from one listing, then reads nothing more.
    const restarted = runner();
    await restarted.drain();
    processStore.recordsRead = 0;
    clock.advance(hourMs / 2);
    await restarted.drain();
    expect(processStore.recordsRead).toBe(0);
    const expired = (await restarted.list({ status: ["done"] })).map((instance) => instance.id);
    expect(expired).toEqual(["k5", "k6", "k7", "k8", "k9"]);
  });

  it("a second runner's write is refused as stale, reloaded, and nothing is handled twice", async () => {
    const { runner, tick, clock } = setup();
    const first = runner();
    const second = runner();
    await tick("k");
    await first.drain();
    await second.drain();
    await tick("k");
    await second.drain();
    await tick("k");
    // The first runner's cached record is two writes old: its write is refused, then made again.
    await first.drain();
    await second.drain();
    expect((await first.get("counter", "k"))?.state).toEqual({ ticks: 3, expired: false });
    // The deadline the second runner moved is fired once, by whichever runner drains.
    clock.advance(hourMs);
    await first.drain();
    await second.drain();
    const instance = await first.get("counter", "k");
    expect(instance?.state).toEqual({ ticks: 3, expired: true });
    expect(instance?.history.filter((line) => line.kind === "timeout")).toHaveLength(1);
  });

  it("handles a page of 100 events over 100 instances in one store write", async () => {
    const { processStore, runner, tick } = setup();
    const running = runner();
    await running.drain();
    for (let index = 0; index < 100; index++) await tick(`k${index}`);
    processStore.writes = 0;
    await running.drain();
    expect(processStore.writes).toBe(1);
    expect(await processStore.consumer("process:counter")).toEqual({
      name: "process:counter",
      checkpoint: 100,
    });
    expect(await running.list({ status: ["waiting"] })).toHaveLength(100);
  });

  it("delivers an instance's commands before it handles its next event of the same page", async () => {
    const processStore = new CountingProcessStore();
    const clock = createVirtualClock(0);
    const store = new MemoryEventStore({ now: clock.now });
    const running = createProcessRunner({
      store,
      processStore,
      clock,
      deciders: [notes],
      processes: [noter],
    });
    for (const key of ["a", "b", "a", "a", "b"]) {
      await store.append(`ticks-${key}`, [
        createEnvelope(`ticks-${key}`, { type: "tick.counted", version: 1, data: { key } }),
      ]);
    }
    await running.drain();
    const kinds = (await running.get("noter", "a"))?.history.map((line) => line.kind);
    expect(kinds).toEqual(["event", "delivered", "event", "delivered", "event", "delivered"]);
    expect((await store.readStream("notes-a")).length).toBe(3);
    expect((await store.readStream("notes-b")).length).toBe(2);
    expect((await running.get("noter", "b"))?.status).toBe("waiting");
  });

  it("keeps at most `cachedInstances` records and reads the others again", async () => {
    const processStore = new CountingProcessStore();
    const clock = createVirtualClock(0);
    const store = new MemoryEventStore({ now: clock.now });
    const running = createProcessRunner({
      store,
      processStore,
      clock,
      processes: [counter],
      cachedInstances: 2,
      pageSize: 1,
    });
    const tick = (key: string) =>
      store.append(`ticks-${key}`, [
        createEnvelope(`ticks-${key}`, { type: "tick.counted", version: 1, data: { key } }),
      ]);
    await running.drain();
    processStore.recordsRead = 0;
    for (const key of ["a", "b", "c", "a"]) await tick(key);
    await running.drain();
    // a, b and c are new (3 reads); a was pushed out by c, so it is read again.
    expect(processStore.recordsRead).toBe(4);
    expect((await running.get("counter", "a"))?.state).toEqual({ ticks: 2, expired: false });
  });
});

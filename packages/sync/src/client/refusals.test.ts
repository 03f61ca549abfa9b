// Refusals the client must report rather than keep its own copy (stream-session.ts, rule 9), on
// the in-memory node and virtual time: an event id the node holds with other content
// (`id-conflict`, pushed or received), and events the node would refuse, which `execute` refuses
// before anything is stored.
import {
  createEnvelope,
  defineDecider,
  defineEvent,
  isChronicleError,
  type PendingCommand,
  type RecordedEvent,
  type RejectedNotice,
} from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { account } from "../__fixtures__/account.ts";
import { networkDevice } from "../__fixtures__/network-device.ts";
import { MemoryNetwork } from "../testing/memory-network.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import type { SyncEngine } from "./sync-engine.ts";

const STREAM = "account:1";

function world(seed = 5) {
  const node = new MemoryNode();
  const network = new MemoryNetwork(node, seed);
  const device = (name: string) => {
    const { local, transport, engine } = networkDevice(network, name);
    const rejected: RejectedNotice[] = [];
    engine.onRejected((notice) => rejected.push(notice));
    return { local, transport, engine, rejected };
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

/** One deposit of `amount` under a given event id, as a command's only event. */
function deposit(id: string, amount: number, device: string): [RecordedEvent, PendingCommand] {
  const commandId = `${device}-cmd`;
  const event = createEnvelope(
    STREAM,
    { type: "money.deposited", version: 1, data: { amount } },
    { actor: "user", device, correlationId: commandId, causationId: commandId },
  );
  const command = {
    id: commandId,
    decider: "account",
    command: { deposit: amount },
    strict: false,
    basePosition: 0,
  };
  return [{ ...event, id }, command];
}

describe("an event id the node holds with other content", () => {
  it("pushed: the node answers id-conflict; the copy is dropped and reported, the node's event kept", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const b = device("b");
    a.engine.start(STREAM);
    b.engine.start(STREAM);
    await settle(a.engine, b.engine);
    const id = "01900000-0000-7000-8000-000000000001";
    const [mine, mineCommand] = deposit(id, 1, "a");
    const [theirs, theirsCommand] = deposit(id, 2, "b");
    await a.local.addPending(STREAM, [mine], mineCommand);
    await b.local.addPending(STREAM, [theirs], theirsCommand);
    // Both pushes leave before either hears of the other: a's is stored first.
    await a.engine.kick(STREAM);
    await b.engine.kick(STREAM);
    await settle(a.engine, b.engine);

    const log = node.log(STREAM);
    expect(log.map((event) => [event.id, event.data])).toEqual([[id, { amount: 1 }]]);
    expect(b.rejected, JSON.stringify(b.rejected)).toHaveLength(1);
    expect(b.rejected[0]).toMatchObject({
      stream: STREAM,
      code: "id-conflict",
      commandId: "b-cmd",
      command: { deposit: 2 },
      events: [theirs],
    });
    expect(await b.local.readPending(STREAM)).toEqual([]);
    expect(await b.local.readConfirmed(STREAM)).toEqual(log);
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
    expect(a.rejected).toEqual([]);
    expect(b.engine.syncStatus(STREAM)).toMatchObject({ state: "synced", pending: 0 });
  });

  it("re-pushed with changed content: the node's id-conflict (with id and position) drops and reports it", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    a.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 1 });
    await settle(a.engine);
    const [stored] = node.log(STREAM);
    // A copy of a stored event, changed (a bug, or a hostile client), pushed again.
    const [changed, command] = deposit(stored!.id, 9, "a");
    await a.local.addPending(STREAM, [changed], command);
    await a.engine.kick(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 2 });
    await settle(a.engine);

    expect(a.rejected).toHaveLength(1);
    expect(a.rejected[0]).toMatchObject({ code: "id-conflict", events: [changed] });
    expect(a.engine.syncStatus(STREAM)).toMatchObject({
      state: "synced",
      pending: 0,
      lastError: {
        code: "id-conflict",
        details: { id: stored!.id, position: 1, path: "events.0.id" },
      },
    });
    const log = node.log(STREAM);
    expect(log.map((event) => event.data)).toEqual([{ amount: 1 }, { amount: 2 }]);
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
  });

  it("received while pending here: the pending copy is dropped and reported, never confirmed as ours", async () => {
    const { node, device, settle } = world();
    const a = device("a");
    const b = device("b");
    a.engine.start(STREAM);
    const id = "01900000-0000-7000-8000-000000000002";
    const [mine, mineCommand] = deposit(id, 3, "a");
    const [theirs, theirsCommand] = deposit(id, 4, "b");
    await a.local.addPending(STREAM, [mine], mineCommand);
    await a.engine.kick(STREAM);
    await settle(a.engine);
    // b wrote offline under the same id, with another deposit of the same command after it.
    const [later] = deposit("01900000-0000-7000-8000-000000000003", 5, "b");
    await b.local.addPending(STREAM, [theirs, later!], theirsCommand);
    const [separate, separateCommand] = deposit("01900000-0000-7000-8000-000000000004", 6, "b");
    await b.local.addPending(STREAM, [separate], { ...separateCommand, id: "b-other" });
    b.engine.start(STREAM);
    await settle(a.engine, b.engine);

    expect(b.rejected).toHaveLength(1);
    expect(b.rejected[0]).toMatchObject({ code: "id-conflict", commandId: "b-cmd" });
    expect(b.rejected[0]!.events).toEqual([theirs, later]); // the whole command, not half of it
    const log = node.log(STREAM);
    expect(log.map((event) => event.data)).toEqual([{ amount: 3 }, { amount: 6 }]);
    expect(await b.local.readConfirmed(STREAM)).toEqual(log);
    expect(await b.local.readPending(STREAM)).toEqual([]);
  });
});

describe("execute refuses what the node would refuse, storing nothing", () => {
  const noted = defineEvent({
    type: "note.added",
    schema: z.object({ text: z.string() }),
  });
  const notes = defineDecider({
    name: "notes",
    events: [noted],
    initialState: null,
    evolve: (state) => state,
    decide: (command: { text: string }) => noted.create({ text: command.text }),
  });

  for (const [name, command, options, code, path] of [
    ["an event over the size limit", { text: "x".repeat(70_000) }, {}, "too-large", "events.0"],
    [
      "an actor longer than the envelope allows",
      { text: "hi" },
      { context: { actor: "y".repeat(300) } },
      "validation",
      "events.0.meta.actor",
    ],
  ] as const) {
    it(`${name}: ${code} at ${path}`, async () => {
      const { node, device, settle } = world();
      const a = device("a");
      a.engine.start(STREAM);
      const error = await a.engine
        .execute(STREAM, notes, command, options)
        .catch((e: unknown) => e);
      expect(isChronicleError(error, code)).toBe(true);
      expect((error as { details: { path?: unknown } }).details.path).toBe(path);
      await settle(a.engine);
      expect(await a.local.readPending(STREAM)).toEqual([]);
      expect(await a.local.streamsWithPending()).toEqual([]);
      expect(node.log(STREAM)).toEqual([]);
      expect(a.rejected).toEqual([]);
    });
  }

  it("data that is not exact JSON (-0, a __proto__ key): validation with the path", async () => {
    const { device } = world();
    const a = device("a");
    const loose = defineEvent({ type: "blob.saved", schema: z.record(z.string(), z.unknown()) });
    const blobs = defineDecider({
      name: "blobs",
      events: [loose],
      initialState: null,
      evolve: (state) => state,
      decide: (command: { data: Record<string, unknown> }) => loose.create(command.data),
    });
    for (const data of [{ n: -0 }, JSON.parse('{"__proto__":{"admin":true}}')]) {
      const error = await a.engine.execute(STREAM, blobs, { data }).catch((e: unknown) => e);
      expect(isChronicleError(error, "validation"), JSON.stringify(data)).toBe(true);
    }
    expect(await a.local.readPending(STREAM)).toEqual([]);
  });
});

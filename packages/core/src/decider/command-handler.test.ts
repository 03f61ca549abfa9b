import { describe, expect, it } from "vitest";
import { type BoardCommand, boardDecider, cardAdded, cardMoved } from "../__fixtures__/board.ts";
import { isChronicleError } from "../errors.ts";
import { createEnvelope } from "../events/envelope.ts";
import { MemorySnapshotStore, snapshotKey } from "../snapshot/snapshot-store.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import type { EventStore } from "../store/types.ts";
import { deciderSpec } from "../testing/decider-spec.ts";
import { createCommandHandler } from "./command-handler.ts";
import { defineDecider } from "./define-decider.ts";

const add = (id: string, title = id): BoardCommand => ({ type: "addCard", id, title });

describe("deciderSpec (given/when/then)", () => {
  const spec = deciderSpec(boardDecider);

  it("asserts the decided events", () => {
    spec
      .given([cardAdded.create({ id: "c1", title: "A", column: "todo" })])
      .when({ type: "moveCard", id: "c1", to: "done" })
      .then([cardMoved.create({ id: "c1", to: "done" })]);
  });

  it("fails when the events differ, with expected and actual", () => {
    expect(() =>
      spec
        .given([])
        .when(add("c1"))
        .then([cardAdded.create({ id: "c1", title: "other", column: "todo" })]),
    ).toThrow(/decided events differ/);
  });

  it("asserts refusals by code, and fails when the command is accepted", () => {
    spec.given([]).when({ type: "moveCard", id: "nope", to: "x" }).thenThrows("not-found");
    expect(() => spec.given([]).when(add("c1")).thenThrows("validation")).toThrow(
      /expected the command to be refused/,
    );
  });

  it("folds old event versions through upcasters in given", () => {
    spec
      .given([{ type: "card.added", version: 1, data: { id: "c1", title: "old" } }])
      .when({ type: "moveCard", id: "c1", to: "todo" })
      .then([]);
    spec
      .given([{ type: "card.added", version: 1, data: { id: "c1", title: "old" } }])
      .when({ type: "moveCard", id: "c1", to: "done" })
      .thenState({ cards: { c1: { title: "old", column: "done" } } });
  });
});

describe("createCommandHandler", () => {
  it("decides, appends with the loaded version and returns the new state", async () => {
    const store = new MemoryEventStore();
    const handle = createCommandHandler(store, boardDecider, {
      context: { actor: "alice", device: "d1" },
    });
    await handle("board:1", add("c1", "First"));
    const result = await handle("board:1", { type: "moveCard", id: "c1", to: "done" });
    expect(result.head).toBe(2);
    expect(result.events.map((e) => [e.type, e.position])).toEqual([["card.moved", 2]]);
    expect(result.state.cards.c1).toEqual({ title: "First", column: "done" });
    expect(result.events[0]!.meta.actor).toBe("alice");
  });

  it("carries the command's correlation and causation to its events", async () => {
    const handle = createCommandHandler(new MemoryEventStore(), boardDecider);
    const { events } = await handle("b", add("c1"), {
      commandId: "cmd-1",
      correlationId: "flow-9",
    });
    expect(events[0]!.meta.causationId).toBe("cmd-1");
    expect(events[0]!.meta.correlationId).toBe("flow-9");
    const next = await handle("b", add("c2"), { commandId: "cmd-2" });
    expect(next.events[0]!.meta.correlationId).toBe("cmd-2");
  });

  it("passes refusals through and writes nothing", async () => {
    const store = new MemoryEventStore();
    const handle = createCommandHandler(store, boardDecider);
    await expect(handle("b", { type: "removeCard", id: "x" })).rejects.toMatchObject({
      code: "not-found",
    });
    expect(await store.head("b")).toBe(0);
  });

  it("refuses events that fail their schema with validation, naming the field", async () => {
    const store = new MemoryEventStore();
    const loose = defineDecider({
      name: "loose",
      events: [cardAdded],
      initialState: {},
      evolve: (s) => s,
      decide: (title: string) => ({
        type: "card.added" as const,
        data: { id: "c", title, column: "x" },
      }),
    });
    const handle = createCommandHandler(store, loose);
    await expect(handle("b", "")).rejects.toMatchObject({
      code: "validation",
      details: { path: "title" },
    });
    expect(await store.head("b")).toBe(0);
  });

  it("retries on concurrency by deciding again on the new state", async () => {
    const store = new MemoryEventStore();
    let interfere = 1;
    const racing = withAppend(store, async (stream, events, options) => {
      if (interfere-- > 0) await store.append(stream, boardEvents(stream, "intruder"));
      return store.append(stream, events, options);
    });
    const handle = createCommandHandler(racing, boardDecider);
    const result = await handle("b", add("mine"));
    expect(result.head).toBe(2);
    expect(Object.keys(result.state.cards).sort()).toEqual(["intruder", "mine"]);
  });

  it("gives up after maxRetries with the concurrency error", async () => {
    const store = new MemoryEventStore();
    let n = 0;
    const hostile = withAppend(store, async (stream, events, options) => {
      await store.append(stream, boardEvents(stream, `x${n++}`));
      return store.append(stream, events, options);
    });
    const handle = createCommandHandler(hostile, boardDecider, { maxRetries: 2 });
    const error = await handle("b", add("mine")).catch((e: unknown) => e);
    expect(isChronicleError(error, "concurrency")).toBe(true);
    expect(n).toBe(3);
  });

  it("loads from the latest snapshot plus the tail, and snapshots every N events", async () => {
    const store = new MemoryEventStore();
    const snapshots = new MemorySnapshotStore();
    const decider = { ...boardDecider, snapshotEvery: 10 };
    const handle = createCommandHandler(store, decider, { snapshots });
    for (let i = 0; i < 25; i++) await handle("b", add(`c${i}`));
    const key = snapshotKey("decider", "board", "b");
    expect(snapshots.count(key)).toBe(2);
    expect((await snapshots.load(key))?.position).toBe(20);

    // Prove the snapshot is used: corrupt it, and the next command sees the corruption.
    const latest = (await snapshots.load(key))!;
    await snapshots.save({ ...latest, state: { cards: {} } });
    const result = await handle("b", add("c0"));
    expect(result.state.cards.c0).toBeDefined();
    expect(Object.keys(result.state.cards)).toHaveLength(6);
  });
});

/** The store with another writer slipping in before each append (a race, made deterministic). */
function withAppend(store: EventStore, append: EventStore["append"]): EventStore {
  return {
    append,
    readStream: (stream, options) => store.readStream(stream, options),
    head: (stream) => store.head(stream),
    readAll: (options) => store.readAll(options),
    lastCheckpoint: () => store.lastCheckpoint(),
    subscribe: (options, handler) => store.subscribe(options, handler),
    close: () => store.close(),
  };
}

function boardEvents(stream: string, id: string) {
  return [
    createEnvelope(stream, {
      type: "card.added",
      version: 2,
      data: { id, title: id, column: "todo" },
    }),
  ];
}

import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { createCommandHandler } from "../decider/command-handler.ts";
import { createEnvelope, type RecordedEvent } from "../events/envelope.ts";
import { foldEvents, initialStateOf } from "../fold/foldable.ts";
import { createProjectionRunner } from "../projection/projection-runner.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createStoreUndoHost } from "../undo/undo-host.ts";
import { createUndoManager } from "../undo/undo-manager.ts";
import { defineTextField } from "./text-field.ts";

const description = defineTextField({ type: "card.description.edited", compactEvery: 10 });
const projection = description.projection();

function recorded(input: { type: string; data: unknown }, n: number): RecordedEvent {
  return { ...createEnvelope("b", { ...input, version: 1 }), position: n, recordedAt: n };
}

describe("collaborative text fields", () => {
  it("merges concurrent edits character-wise, whatever order the events arrive in", () => {
    const base = description.edit(new Y.Doc(), "c1", (text) => text.insert(0, "The fox"))!;
    const start = foldEvents(projection, initialStateOf(projection), [recorded(base, 1)]);
    const alice = description.doc(start, "c1");
    const bob = description.doc(start, "c1");
    const a = description.edit(alice, "c1", (text) => text.insert(4, "quick "))!;
    const b = description.edit(bob, "c1", (text) => text.insert(7, " jumps"))!;
    const ab = foldEvents(projection, initialStateOf(projection), [
      recorded(base, 1),
      recorded(a, 2),
      recorded(b, 3),
    ]);
    const ba = foldEvents(projection, initialStateOf(projection), [
      recorded(base, 1),
      recorded(b, 2),
      recorded(a, 3),
    ]);
    expect(description.read(ab, "c1")).toBe("The quick fox jumps");
    expect(description.read(ba, "c1")).toBe("The quick fox jumps");
    expect(description.read(ab, "other")).toBe("");
  });

  it("merges newer states into a live doc, including edits a rebase moved earlier, and wraps raw updates", () => {
    const fold = (...inputs: { type: string; data: unknown }[]) =>
      foldEvents(
        projection,
        initialStateOf(projection),
        inputs.map((input, index) => recorded(input, index + 1)),
      );
    const base = description.edit(new Y.Doc(), "c1", (text) => text.insert(0, "Hello"))!;
    const live = description.doc({ fields: {} }, "c1");
    const remote = { remote: true };
    const origins: unknown[] = [];
    live.on("update", (_update: Uint8Array, origin: unknown) => origins.push(origin));
    description.merge(live, fold(base), "c1", remote);
    expect(live.getText("text").toString()).toBe("Hello");

    // A local edit, sent as a raw update; then a state where another device's edit was ordered
    // before it (a rebase): the other edit still reaches the live doc.
    const updates: Uint8Array[] = [];
    const capture = (update: Uint8Array) => updates.push(update);
    live.on("update", capture);
    live.getText("text").insert(5, "!");
    live.off("update", capture);
    const mine = { type: description.event.type, data: description.editOf("c1", updates) };
    const other = description.edit(description.doc(fold(base), "c1"), "c1", (text) =>
      text.insert(0, ">> "),
    )!;
    description.merge(live, fold(base, mine), "c1", remote);
    description.merge(live, fold(base, other, mine), "c1", remote);
    expect(live.getText("text").toString()).toBe(">> Hello!");
    expect(description.read(fold(base, other, mine), "c1")).toBe(">> Hello!");
    expect(origins.filter((origin) => origin !== remote)).toHaveLength(1); // only the local edit
    expect(() => description.editOf("c1", [])).toThrow(/at least one update/);
  });

  it("compacts, stays JSON, and folds on correctly from a cloned (persisted) state", () => {
    const doc = new Y.Doc();
    const events: RecordedEvent[] = [];
    for (let i = 0; i < 25; i++)
      events.push(
        recorded(
          description.edit(doc, "k", (text) => text.insert(text.length, `${i % 10}`))!,
          i + 1,
        ),
      );
    const state = foldEvents(projection, initialStateOf(projection), events.slice(0, 15));
    expect(state.fields.k!.pending.length).toBeLessThan(10);
    const reloaded = JSON.parse(JSON.stringify(state));
    const after = foldEvents(projection, reloaded, events.slice(15));
    expect(description.read(after, "k")).toBe("0123456789012345678901234");
    expect(description.doc(after, "k").getText("text").toString()).toBe(
      "0123456789012345678901234",
    );
  });

  it("materializes through the projection runner, and refuses non-Yjs updates", async () => {
    const store = new MemoryEventStore();
    const handle = createCommandHandler(store, description.decider);
    const doc = new Y.Doc();
    await handle("b", description.edit(doc, "c1", (t) => t.insert(0, "hello"))!.data);
    await handle("b", description.edit(doc, "c1", (t) => t.delete(0, 1))!.data);
    expect(
      description.read(await createProjectionRunner({ store }).read(projection, "b"), "c1"),
    ).toBe("ello");
    await expect(handle("b", { key: "c1", update: "/////w==" })).rejects.toMatchObject({
      code: "validation",
    });
    await expect(handle("b", { key: "c1", update: "not base64!" })).rejects.toMatchObject({
      code: "validation",
    });
    expect(description.edit(doc, "c1", () => {})).toBeUndefined();
  });

  it("undoes my own text edits through the undo manager, keeping other people's", async () => {
    const store = new MemoryEventStore();
    const host = createStoreUndoHost(store);
    const alice = createCommandHandler(store, description.decider, {
      context: { actor: "alice", device: "a" },
    });
    const bob = createCommandHandler(store, description.decider, {
      context: { actor: "bob", device: "b" },
    });
    const undo = createUndoManager({
      host,
      actor: "alice",
      device: "a",
      deciders: [description.decider],
    });
    const read = async () =>
      description.read(await createProjectionRunner({ store }).read(projection, "s"), "c1");

    const aliceDoc = new Y.Doc();
    const typed = await alice(
      "s",
      description.edit(aliceDoc, "c1", (t) => t.insert(0, "Hello"))!.data,
    );
    await undo.record("s", description.decider, typed.events, { label: "Typing" });
    const bobDoc = description.doc(typed.state, "c1");
    await bob("s", description.edit(bobDoc, "c1", (t) => t.insert(5, " world"))!.data);
    expect(await read()).toBe("Hello world");

    expect((await undo.undo()).status).toBe("done");
    expect(await read()).toBe(" world");
    expect((await undo.redo()).status).toBe("done");
    expect(await read()).toBe("Hello world");
  });
});

// Node tier: live Y.Docs bound to a text field on two devices (main-thread API over a
// MessageChannel to hosts on fake-indexeddb, synced through @chronicle/sync's in-memory node):
// edits made in one doc reach the other, concurrent edits merge, undo takes back only mine.
import { defineTextField } from "@chronicle/core/text";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, expect, it } from "vitest";
import { hostChronicle } from "../worker/host.ts";
import type { Chronicle } from "./chronicle-types.ts";
import { createChronicle } from "./create-chronicle.ts";
import { bindTextDoc, type TextDocBinding } from "./text-doc.ts";

const S = "notes:1";
const notes = defineTextField({ type: "note.text.edited" });
const notesView = notes.projection();
const open: { chronicle: Chronicle; binding: TextDocBinding }[] = [];
let devices = 0;

afterEach(async () => {
  for (const { chronicle, binding } of open.splice(0)) {
    binding.destroy();
    await chronicle.close();
  }
});

async function device(node: MemoryNode, actor: string, captureWindowMs = 0) {
  let engine: SyncEngine | undefined;
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: `text-doc-${++devices}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [notes.decider],
      projections: [notesView],
      actor,
      undo: { captureWindowMs },
      sync: createSyncStarter({
        transport: createLoopbackTransport(node),
        streams: [S],
        followNetwork: false,
        onEngine: (created) => {
          engine = created;
        },
      }),
    },
    port2 as never,
  );
  const chronicle = await createChronicle({ worker: port1 as never, persist: false });
  const binding = bindTextDoc(chronicle, { field: notes, stream: S, key: "n1" });
  open.push({ chronicle, binding });
  const text = binding.doc.getText("text");
  /** Resolves once the doc holds `want` (now or after a later update). */
  const shows = (want: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (text.toString() !== want) return;
        binding.doc.off("update", check);
        resolve();
      };
      binding.doc.on("update", check);
      check();
    });
  return { chronicle, binding, text, shows, engine: () => engine! };
}

it("a live doc per device: local edits become events, remote ones merge in, undo takes back only mine", async () => {
  const node = new MemoryNode();
  const a = await device(node, "alice");
  const b = await device(node, "bob");

  a.text.insert(0, "Hello world");
  await a.binding.settled();
  await b.shows("Hello world");

  // Both edit before hearing of each other's change: the edits merge character-wise.
  a.engine().setOnline(false);
  a.text.insert(6, "brave ");
  b.text.insert(b.text.length, "!");
  await Promise.all([a.binding.settled(), b.binding.settled()]);
  a.engine().setOnline(true);
  await Promise.all([a.shows("Hello brave world!"), b.shows("Hello brave world!")]);
  // Every edit went through the log exactly once: the node holds three edit events.
  expect(node.log(S)).toHaveLength(3);

  expect(await a.chronicle.undoManager.undo()).toMatchObject({ status: "done" });
  await Promise.all([a.shows("Hello world!"), b.shows("Hello world!")]);
  expect(node.log(S).at(-1)?.meta.undoOf).toEqual([
    node.log(S).find((event) => event.meta.device === a.chronicle.deviceId && event.position > 1)
      ?.id,
  ]);
});

it("typing into one field is one undo step (inside the capture window); other commands stay apart", async () => {
  const node = new MemoryNode();
  const a = await device(node, "alice", 60_000);
  a.text.insert(0, "Hello");
  await a.binding.settled();
  a.text.insert(5, " world");
  await a.binding.settled();
  expect(await a.chronicle.undoManager.undo()).toMatchObject({ status: "done" });
  await a.shows("");
  expect(a.chronicle.undoManager.state.canUndo).toBe(false);
});

it("hold() keeps the store's states out of the doc until released, and sends local edits meanwhile", async () => {
  const node = new MemoryNode();
  const a = await device(node, "alice");
  const b = await device(node, "bob");
  a.text.insert(0, "Hello");
  await a.binding.settled();
  await b.shows("Hello");

  const release = b.binding.hold(); // an IME composition opens on b
  b.text.insert(5, "!");
  a.text.insert(0, "Oh, ");
  await a.binding.settled();
  await a.shows("Oh, Hello!"); // b's edit went out during the hold
  const stored = async () => notes.read(await b.chronicle.load(notesView, S), "n1");
  await expect.poll(stored).toBe("Oh, Hello!"); // a's edit reached b's store...
  expect(b.text.toString()).toBe("Hello!"); // ...and not b's doc
  release();
  expect(b.text.toString()).toBe("Oh, Hello!");
});

it("reports a refused edit and keeps binding the others", async () => {
  const node = new MemoryNode();
  const errors: string[] = [];
  const a = await device(node, "alice");
  a.binding.destroy();
  const binding = bindTextDoc(a.chronicle, {
    field: notes,
    stream: S,
    key: "n1",
    onError: (error) => errors.push(error.code),
  });
  open.push({ chronicle: a.chronicle, binding });
  // A key the event schema refuses (longer than 256 characters) cannot be stored.
  const bad = bindTextDoc(a.chronicle, {
    field: notes,
    stream: S,
    key: "k".repeat(300),
    onError: (error) => errors.push(error.code),
  });
  bad.doc.getText("text").insert(0, "lost");
  await bad.settled();
  expect(errors).toEqual(["validation"]);
  binding.doc.getText("text").insert(0, "kept");
  await binding.settled();
  expect(notes.read(await a.chronicle.load(notesView, S), "n1")).toBe("kept");
  bad.destroy();
});

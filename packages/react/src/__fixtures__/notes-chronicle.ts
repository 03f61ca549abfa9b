// Shared by the react package's tests: a notes domain and a browser Chronicle as an app gets
// it (its worker host on a MessageChannel, IndexedDB from fake-indexeddb, optionally synced
// through @chronicle/sync's in-memory node).
import { createChronicle } from "@chronicle/browser";
import { hostChronicle } from "@chronicle/browser/worker";
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import type { Process } from "@chronicle/core/process";
import { createSyncStarter, type SyncEngine } from "@chronicle/sync";
import { createLoopbackTransport, type MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { z } from "zod";

export const S = "notes:1";
export const noteAdded = defineEvent({
  type: "note.added",
  schema: z.object({ id: z.string(), text: z.string().min(1) }),
  invert: ({ data }) => ({ type: "note.removed", data: { id: data.id } }),
});
export const noteRemoved = defineEvent({
  type: "note.removed",
  schema: z.object({ id: z.string() }),
});
export const notes = defineDecider({
  name: "notes",
  events: [noteAdded, noteRemoved],
  initialState: { ids: [] as string[] },
  evolve: (s, e) => ({
    ids: e.type === "note.added" ? [...s.ids, e.data.id] : s.ids.filter((id) => id !== e.data.id),
  }),
  decide: (c: { add: string; text: string }, s) => {
    if (s.ids.includes(c.add)) throw new ChronicleError("validation", `note ${c.add} exists`);
    return noteAdded.create({ id: c.add, text: c.text });
  },
});
export const noteList = defineProjection({
  name: "note-list",
  events: [noteAdded, noteRemoved],
  initialState: { texts: [] as string[] },
  handlers: {
    "note.added": (s, e) => ({ texts: [...s.texts, e.data.text] }),
    "note.removed": (s) => ({ texts: s.texts.slice(0, -1) }),
  },
});

let databases = 0;
export const closing: (() => Promise<void>)[] = [];

/**
 * A browser Chronicle as an app gets it, its worker host on the other end of a MessageChannel.
 * With `node`, the host syncs through it; the engine starts offline (`goOnline` connects it).
 * `processes` run in the host (it leads at once: the tests have no Web Locks).
 */
export async function openChronicle(node?: MemoryNode, processes: readonly Process[] = []) {
  const { port1, port2 } = new MessageChannel();
  let engine: SyncEngine | undefined;
  hostChronicle(
    {
      name: `react-hooks-${++databases}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      deciders: [notes],
      projections: [noteList],
      processes,
      actor: "alice",
      ...(node && {
        sync: createSyncStarter({
          transport: createLoopbackTransport(node),
          streams: [S],
          followNetwork: false,
          online: false,
          onEngine: (created) => {
            engine = created;
          },
        }),
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  closing.push(async () => {
    await chronicle.close();
    port1.close();
  });
  return { chronicle, goOnline: () => engine?.setOnline(true) };
}

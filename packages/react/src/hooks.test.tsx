// @vitest-environment happy-dom
import {
  ChronicleError,
  createCommandHandler,
  createProjectionRunner,
  createStoreUndoHost,
  createUndoManager,
  defineDecider,
  defineEvent,
  defineProjection,
  MemoryEventStore,
  MemoryLocalLog,
  type Projection,
  toHistoryEntry,
} from "@chronicle/core";
import { createSyncEngine, type SyncStatus } from "@chronicle/sync";
import { MemoryNetwork, MemoryNode } from "@chronicle/sync/testing";
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ChronicleProvider } from "./context.tsx";
import { useCommand, useHistory, useProjection, useSyncStatus, useUndo } from "./hooks.ts";
import type { HistorySource, ProjectionSource, SyncStatusSource, UndoSource } from "./sources.ts";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const noteAdded = defineEvent({
  type: "note.added",
  schema: z.object({ id: z.string(), text: z.string().min(1) }),
  invert: ({ data }) => ({ type: "note.removed", data: { id: data.id } }),
});
const noteRemoved = defineEvent({ type: "note.removed", schema: z.object({ id: z.string() }) });
const notes = defineDecider({
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
const noteList = defineProjection({
  name: "note-list",
  events: [noteAdded, noteRemoved],
  initialState: { texts: [] as string[] },
  handlers: {
    "note.added": (s, e) => ({ texts: [...s.texts, e.data.text] }),
    "note.removed": (s) => ({ texts: s.texts.slice(0, -1) }),
  },
});

/** A Chronicle-like source over core's memory store: what the browser Chronicle provides. */
function memoryChronicle(actor = "alice") {
  const store = new MemoryEventStore();
  const runner = createProjectionRunner({ store });
  const handle = createCommandHandler(store, notes, { context: { actor, device: "d" } });
  const cache = new Map<string, unknown>();
  const source: ProjectionSource & {
    execute: typeof execute;
    readStream: MemoryEventStore["readStream"];
  } = {
    read: (projection, stream) => cache.get(`${projection.name}/${stream}`) as never,
    subscribe(projection, stream, listener) {
      const watch = runner.watch(projection as Projection<unknown>, stream, (state) => {
        cache.set(`${projection.name}/${stream}`, state);
        listener(state as never);
      });
      return () => watch.close();
    },
    execute,
    readStream: (stream, options) => store.readStream(stream, options),
  };
  async function execute(
    stream: string,
    _decider: unknown,
    command: { add: string; text: string },
  ) {
    return handle(stream, command);
  }
  return { store, source, handle };
}

function Notes() {
  const state = useProjection(noteList, "notes:1");
  const add = useCommand(notes);
  return (
    <div>
      <p>{state ? state.texts.join(",") || "empty" : "loading"}</p>
      <button type="button" onClick={() => add.execute("notes:1", { add: "n1", text: "hello" })}>
        add
      </button>
      {add.error && <p role="alert">{`${add.error.code}: ${add.error.message}`}</p>}
    </div>
  );
}

function Toolbar(props: { undo: UndoSource; source: ProjectionSource }) {
  const controls = useUndo(props.undo);
  const state = useProjection(noteList, "notes:1", props.source);
  return (
    <div>
      <button type="button" disabled={!controls.canUndo} onClick={() => void controls.undo()}>
        {`undo ${controls.undoLabel ?? ""}`}
      </button>
      <span>{`redo:${controls.canRedo ? controls.redoLabel : "none"}`}</span>
      <span>{`notes:${state?.texts.length ?? "?"}`}</span>
    </div>
  );
}

function Status(props: { engine: SyncStatusSource<SyncStatus>; source: HistorySource }) {
  const status = useSyncStatus(props.engine, "notes:1");
  const history = useHistory("notes:1", { source: props.source });
  return (
    <p>{`${status.state}|${history.map((h) => `${h.position}:${h.type}:${h.actor}`).join(";")}`}</p>
  );
}

function FromProvider() {
  const controls = useUndo();
  const history = useHistory("notes:1");
  return (
    <p>
      <button type="button" disabled={!controls.canUndo} onClick={() => void controls.undo()}>
        {`undo ${controls.undoLabel ?? "-"}`}
      </button>
      {history.map((h) => `${h.position}:${h.type}${h.pending ? ":pending" : ""}`).join(";")}
    </p>
  );
}

let root: Root | undefined;
let container: HTMLElement;
afterEach(() => {
  act(() => root?.unmount());
  root = undefined;
  container?.remove();
});

async function render(element: React.ReactElement) {
  container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
  await act(async () => root!.render(element));
}

/** Resolves when `text` appears in the rendered output (checked after each React commit). */
async function rendered(text: string) {
  for (let i = 0; i < 50 && !container.textContent?.includes(text); i++) {
    await act(async () => {
      await Promise.resolve();
    });
  }
  expect(container.textContent).toContain(text);
}

describe("@chronicle/react hooks", () => {
  it("useProjection re-renders on each change; useCommand reports refusals by code", async () => {
    const { source } = memoryChronicle();
    await render(
      <ChronicleProvider chronicle={source as never}>
        <Notes />
      </ChronicleProvider>,
    );
    await rendered("empty");
    await act(async () => container.querySelector("button")!.click());
    await rendered("hello");
    await act(async () => container.querySelector("button")!.click());
    await rendered("validation: note n1 exists");
  });

  it("useUndo exposes labels and actions of an undo manager", async () => {
    const { store, handle, source } = memoryChronicle();
    const undo = createUndoManager({
      host: createStoreUndoHost(store),
      actor: "alice",
      device: "d",
      deciders: [notes],
    });
    const { events } = await handle("notes:1", { add: "n1", text: "first" });
    await undo.record("notes:1", notes, events, { label: "Add note" });
    await render(<Toolbar undo={undo} source={source} />);
    await rendered("undo Add note");
    await rendered("notes:1");
    await act(async () => container.querySelector("button")!.click());
    await rendered("redo:Add note");
    await rendered("notes:0");
  });

  it("useSyncStatus follows the engine; useHistory lists who did what", async () => {
    const node = new MemoryNode();
    const network = new MemoryNetwork(node, 1);
    const engine = createSyncEngine({
      local: new MemoryLocalLog(),
      transport: network.transport(),
      device: "d",
      scheduler: network.scheduler,
    });
    const { source, handle } = memoryChronicle("bob");
    await handle("notes:1", { add: "n1", text: "x" });
    await render(<Status engine={engine} source={source} />);
    await rendered("offline|1:note.added:bob");
    await act(async () => {
      engine.start("notes:1");
      const deadline = network.now + 1_000;
      do {
        await engine.idle();
        await network.run({ until: deadline });
        await engine.idle();
      } while (!network.quiet);
    });
    await rendered("synced|");
    await act(async () => engine.close()); // closing is a status change the component renders
  });

  it("useUndo() and useHistory() use the provider's chronicle: its undoManager, its pending-aware history", async () => {
    const { store, handle, source } = memoryChronicle();
    const undoManager = createUndoManager({
      host: createStoreUndoHost(store),
      actor: "alice",
      device: "d",
      deciders: [notes],
    });
    const { events } = await handle("notes:1", { add: "n1", text: "first" });
    await undoManager.record("notes:1", notes, events, { label: "Add note" });
    const chronicle = {
      ...source,
      undoManager,
      // As the browser Chronicle with sync: confirmed entries, then pending ones.
      history: async () => [
        { ...toHistoryEntry((await store.readStream("notes:1"))[0]!) },
        { ...toHistoryEntry({ ...events[0]!, id: "p", position: 2 }), pending: true as const },
      ],
    };
    await render(
      <ChronicleProvider chronicle={chronicle as never}>
        <FromProvider />
      </ChronicleProvider>,
    );
    await rendered("undo Add note");
    await rendered("1:note.added;2:note.added:pending");
    await act(async () => container.querySelector("button")!.click());
    await rendered("undo -");
    expect((await store.readStream("notes:1")).at(-1)?.meta.undoOf).toEqual([events[0]!.id]);
  });
});

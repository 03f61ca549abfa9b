// @vitest-environment happy-dom
// The hooks against the real thing: a browser Chronicle (its worker host on a MessageChannel,
// IndexedDB from fake-indexeddb, sync through @chronicle/sync's in-memory node) under the
// provider, and core's undo manager, the sync engine and a memory store as explicit sources.
// The same file runs on React 19 (node tier) and React 18 (react18 tier).
import type { Chronicle, ExecuteResult } from "@chronicle/browser";
import {
  createCommandHandler,
  createProjectionRunner,
  createStoreUndoHost,
  createUndoManager,
  history,
  MemoryEventStore,
  MemoryLocalLog,
  type RecordedEvent,
  type StateOf,
} from "@chronicle/core";
import { createSyncEngine, type SyncEngine } from "@chronicle/sync";
import { MemoryNetwork, MemoryNode } from "@chronicle/sync/testing";
import { act, version as reactVersion } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { closing, noteList, notes, openChronicle, S } from "./__fixtures__/notes-chronicle.ts";
import {
  ChronicleProvider,
  type CommandSource,
  type HistorySource,
  type ProjectionSource,
  type SyncStatusSource,
  type UndoSource,
  useChronicle,
  useCommand,
  useHistory,
  useProjection,
  useSyncStatus,
  useUndo,
} from "./index.ts";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
// happy-dom's navigator.locks is null; the worker host looks for Web Locks only when defined.
Object.defineProperty(navigator, "locks", { value: undefined, configurable: true });

/** Explicit sources over core's memory store: what an app without the browser package passes. */
function memorySources(actor = "alice") {
  const store = new MemoryEventStore();
  const runner = createProjectionRunner({ store });
  const handle = createCommandHandler(store, notes, { context: { actor, device: "d" } });
  const states = new Map<string, unknown>();
  const projections: ProjectionSource = {
    // The test double keeps states untyped; the source's signature gives them their type back.
    read: (projection, stream) =>
      states.get(`${projection.name}/${stream}`) as StateOf<typeof projection> | undefined,
    subscribe(projection, stream, listener) {
      const source = stream ?? { prefix: projection.prefix ?? "" };
      const watch = runner.watch(projection, source, (state) => {
        states.set(`${projection.name}/${stream}`, state);
        listener(state);
      });
      return () => watch.close();
    },
  };
  const timeline: HistorySource = { history: (stream, options) => history(store, stream, options) };
  return { store, handle, projections, timeline };
}

function Notes() {
  const state = useProjection(noteList, S);
  const add = useCommand(notes);
  return (
    <div>
      <p>{state ? state.texts.join(",") || "empty" : "loading"}</p>
      <button
        type="button"
        onClick={() => add.execute(S, { add: "n1", text: "hello" }, { label: "Add hello" })}
      >
        add
      </button>
      {add.error && <p role="alert">{`${add.error.code}: ${add.error.message}`}</p>}
    </div>
  );
}

function FromProvider() {
  const chronicle = useChronicle();
  const state = useProjection(noteList, S);
  const status = useSyncStatus(S);
  const controls = useUndo();
  const entries = useHistory(S, { version: status });
  return (
    <div>
      <button type="button" disabled={!controls.canUndo} onClick={() => void controls.undo()}>
        {`undo ${controls.undoLabel ?? "-"}`}
      </button>
      <p>{`sync:${status ? `${status.state}/${status.pending}` : "none"}|leader:${chronicle.isLeader()}`}</p>
      <p className="notes">{state?.texts.join(",") ?? "?"}</p>
      <p className="log">
        {entries
          .map((e) => `${e.position}:${e.type}:${e.actor}${e.pending ? ":pending" : ""}`)
          .join(";")}
      </p>
    </div>
  );
}

/** Never rendered: tsc checks that a wrong command does not compile. */
function WrongCommand() {
  const add = useCommand(notes);
  // @ts-expect-error: `add` is a string in a notes command
  void add.execute(S, { add: 1, text: "hi" });
  return null;
}

function Toolbar(props: { undo: UndoSource; source: ProjectionSource }) {
  const controls = useUndo(props.undo);
  const state = useProjection(noteList, S, props.source);
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

function Status(props: { engine: SyncStatusSource; source: HistorySource }) {
  const status = useSyncStatus(S, props.engine);
  const entries = useHistory(S, { source: props.source });
  return (
    <p>{`${status?.state}|${entries.map((h) => `${h.position}:${h.type}:${h.actor}`).join(";")}`}</p>
  );
}

let root: Root | undefined;
let container: HTMLElement;
afterEach(async () => {
  act(() => root?.unmount());
  root = undefined;
  container?.remove();
  for (const close of closing.splice(0)) await close();
});

async function render(element: React.ReactElement) {
  container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
  await act(async () => root!.render(element));
}

/** Resolves when `text` appears in the rendered output (checked after each React commit). */
async function rendered(text: string) {
  for (let i = 0; i < 200 && !container.textContent?.includes(text); i++) {
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 5)));
  }
  expect(container.textContent).toContain(text);
}

/** Resolves when the element at `selector` holds exactly `text`. */
async function shows(selector: string, text: string) {
  const current = () => container.querySelector(selector)?.textContent;
  for (let i = 0; i < 200 && current() !== text; i++) {
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 5)));
  }
  expect(current()).toBe(text);
}

describe("@chronicle/react hooks", () => {
  it(`runs on React ${process.env.CHRONICLE_REACT_MAJOR ?? "19"} (the tier's)`, () => {
    expect(reactVersion.split(".")[0]).toBe(process.env.CHRONICLE_REACT_MAJOR ?? "19");
  });

  it("useProjection re-renders on each change; useCommand reports refusals by code", async () => {
    const { chronicle } = await openChronicle();
    await render(
      <ChronicleProvider chronicle={chronicle}>
        <Notes />
      </ChronicleProvider>,
    );
    await rendered("empty");
    await act(async () => container.querySelector("button")!.click());
    await rendered("hello");
    await act(async () => container.querySelector("button")!.click());
    await rendered("validation: note n1 exists");
    expect(chronicle.undoManager.state.undoLabel).toBe("Add hello"); // the options reached it
  });

  it("under the provider, useSyncStatus, useUndo and useHistory follow the Chronicle: pending, then synced, then undone", async () => {
    const node = new MemoryNode({ actor: "alice" }); // the token's subject, which it stamps
    const { chronicle, goOnline } = await openChronicle(node);
    await render(
      <ChronicleProvider chronicle={chronicle}>
        <FromProvider />
      </ChronicleProvider>,
    );
    await act(async () => {
      await chronicle.execute(S, notes, { add: "n1", text: "first" }, { label: "Add note" });
    });
    await rendered("sync:offline/1");
    await shows(".notes", "first");
    await rendered("undo Add note");
    await shows(".log", "1:note.added:alice:pending");

    await act(async () => goOnline());
    await rendered("sync:synced/0");
    await shows(".log", "1:note.added:alice");
    await act(async () => container.querySelector("button")!.click());
    await rendered("undo -");
    await shows(".notes", "");
    await rendered("sync:synced/0");
    await shows(".log", "1:note.added:alice;2:note.removed:alice");
    expect(node.log(S).map((event) => event.type)).toEqual(["note.added", "note.removed"]);
  });

  it("useUndo and useProjection take explicit sources (core's undo manager, a memory store)", async () => {
    const { store, handle, projections } = memorySources();
    const undo = createUndoManager({
      host: createStoreUndoHost(store),
      actor: "alice",
      device: "d",
      deciders: [notes],
    });
    const { events } = await handle(S, { add: "n1", text: "first" });
    await undo.record(S, notes, events, { label: "Add note" });
    await render(<Toolbar undo={undo} source={projections} />);
    await rendered("undo Add note");
    await rendered("notes:1");
    await act(async () => container.querySelector("button")!.click());
    await rendered("redo:Add note");
    await rendered("notes:0");
  });

  it("useSyncStatus follows a sync engine; useHistory lists who did what from a history source", async () => {
    const node = new MemoryNode();
    const network = new MemoryNetwork(node, 1);
    const engine = createSyncEngine({
      local: new MemoryLocalLog(),
      transport: network.transport(),
      device: "d",
      scheduler: network.scheduler,
    });
    const { timeline, handle } = memorySources("bob");
    await handle(S, { add: "n1", text: "x" });
    await render(<Status engine={engine} source={timeline} />);
    await rendered("offline|1:note.added:bob");
    await act(async () => {
      engine.start(S);
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
});

describe("types (checked by tsc through tsconfig.tests.json)", () => {
  it("useCommand takes the decider's commands only", () => {
    type AddNote = ReturnType<typeof useCommand<typeof notes>>["execute"];
    expectTypeOf<AddNote>().parameter(1).toEqualTypeOf<{ add: string; text: string }>();
    expectTypeOf<AddNote>().toBeCallableWith(S, { add: "n1", text: "hi" }, { label: "Add" });
    // @ts-expect-error: `text` is missing
    expectTypeOf<AddNote>().toBeCallableWith(S, { add: "n1" });
    // @ts-expect-error: a move is no notes command
    expectTypeOf<AddNote>().toBeCallableWith(S, { move: "n1", to: "done" });
    expectTypeOf<AddNote>().returns.resolves.toEqualTypeOf<ExecuteResult | undefined>();

    expectTypeOf(WrongCommand).toBeFunction();
  });

  it("the browser Chronicle fits every source; a sync engine fits the command and sync status sources", () => {
    expectTypeOf<Chronicle>().toExtend<
      ProjectionSource & CommandSource & HistorySource & SyncStatusSource
    >();
    expectTypeOf<Chronicle["undoManager"]>().toExtend<UndoSource>();
    expectTypeOf<SyncEngine>().toExtend<SyncStatusSource & CommandSource<RecordedEvent[]>>();
    expectTypeOf(useChronicle).returns.toEqualTypeOf<Chronicle>();
  });
});

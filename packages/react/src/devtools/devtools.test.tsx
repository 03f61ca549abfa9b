// @vitest-environment happy-dom
// <ChronicleDevtools /> against a browser Chronicle (worker host on a MessageChannel, IndexedDB
// from fake-indexeddb, sync through the in-memory node): the lazily loaded panel lists the
// stream's events newest first with their ids on expand, previews a projection at an earlier
// position, shows the sync status with its pending count, and lists process instances.
import type { Chronicle } from "@chronicle/browser";
import { defineProcess } from "@chronicle/core/process";
import { MemoryNode } from "@chronicle/sync/testing";
import { act } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, expect, it } from "vitest";
import {
  closing,
  noteAdded,
  noteList,
  notes,
  openChronicle,
  S,
} from "../__fixtures__/notes-chronicle.ts";
import { ChronicleProvider } from "../context.tsx";
import { ChronicleDevtools } from "./index.ts";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
Object.defineProperty(navigator, "locks", { value: undefined, configurable: true });
// happy-dom lays nothing out: the event list's scroller gets the size a browser would give it,
// so the virtualised list has a viewport to fill.
for (const [side, size] of [
  ["clientHeight", 320],
  ["clientWidth", 600],
] as const) {
  const own = Object.getOwnPropertyDescriptor(Element.prototype, side);
  Object.defineProperty(HTMLElement.prototype, side, {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains("chronicle-devtools-events") ? size : own?.get?.call(this);
    },
  });
}

let root: Root | undefined;
let container: HTMLElement;
afterEach(async () => {
  act(() => root?.unmount());
  root = undefined;
  container?.remove();
  for (const close of closing.splice(0)) await close();
});

async function renderDevtools(chronicle: Chronicle) {
  container = document.createElement("div");
  document.body.append(container);
  root = createRoot(container);
  await act(async () =>
    root!.render(
      <ChronicleProvider chronicle={chronicle}>
        <ChronicleDevtools stream={S} projections={[noteList]} />
      </ChronicleProvider>,
    ),
  );
}

/** Waits (commit by commit) until `check` holds. */
async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 400 && !check(); i++) {
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, 5)));
  }
  expect(check(), what).toBe(true);
}

const rows = () => [...container.querySelectorAll<HTMLElement>("li[data-event]")];
const tab = (name: string) =>
  [...container.querySelectorAll<HTMLButtonElement>('[role="tab"]')].find(
    (button) => button.textContent === name,
  )!;

it("lists the stream's events newest first, with ids and data on expand", async () => {
  const { chronicle } = await openChronicle();
  await chronicle.execute(S, notes, { add: "n1", text: "first" });
  await renderDevtools(chronicle);
  await until(() => rows().length === 1, "the panel loads and lists one event");
  const { events } = await chronicle.execute(S, notes, { add: "n2", text: "second" });
  await until(() => rows().length === 2, "a new event shows up");
  expect(rows().map((row) => row.querySelector("button")?.textContent)).toEqual([
    "#2 note.added",
    "#1 note.added",
  ]);
  expect(rows()[0]?.textContent).toContain("confirmed");

  await act(async () => rows()[0]!.querySelector("button")!.click());
  const details = rows()[0]!.querySelector("dl")!.textContent!;
  expect(details).toContain(events[0]!.id);
  expect(details).toContain(events[0]!.meta.correlationId);
  expect(details).toContain('"text": "second"');
});

it("previews a projection's state at an earlier position", async () => {
  const { chronicle } = await openChronicle();
  await chronicle.execute(S, notes, { add: "n1", text: "first" });
  await chronicle.execute(S, notes, { add: "n2", text: "second" });
  await renderDevtools(chronicle);
  await until(() => Boolean(container.querySelector('[role="tab"]')), "the panel loads");
  await act(async () => tab("Time travel").click());
  const preview = () => container.querySelector("pre[data-position]");
  await until(() => preview()?.getAttribute("data-position") === "2", "the head's state");
  expect(JSON.parse(preview()!.textContent!)).toEqual({ texts: ["first", "second"] });

  const slider = container.querySelector<HTMLInputElement>('input[type="range"]')!;
  await act(async () => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!.call(slider, "1");
    slider.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await until(() => preview()?.getAttribute("data-position") === "1", "the state at #1");
  expect(JSON.parse(preview()!.textContent!)).toEqual({ texts: ["first"] });
});

it("shows the sync status with the pending count, and pending events in the log", async () => {
  const { chronicle, goOnline } = await openChronicle(new MemoryNode());
  await renderDevtools(chronicle);
  await until(() => Boolean(container.querySelector('[role="tab"]')), "the panel loads");
  await chronicle.execute(S, notes, { add: "n1", text: "offline" });
  await until(() => rows()[0]?.dataset.pending === "true", "the event is pending");
  await act(async () => tab("Sync").click());
  const pending = () => container.querySelector(".chronicle-devtools-sync")?.textContent ?? "";
  await until(() => pending().includes("pending1"), "one pending event");

  goOnline();
  await until(
    () => container.querySelector("[data-sync-state]")?.textContent === "synced",
    "synced once online",
  );
  expect(pending()).toContain("pending0");
  await act(async () => tab("Events").click());
  await until(() => rows()[0]?.textContent?.includes("confirmed") === true, "confirmed");
});

it("lists process instances with their status, state and deadlines", async () => {
  const dueAt = Date.UTC(2030, 0, 1);
  const reminder = defineProcess({
    name: "note-reminder",
    events: [noteAdded],
    correlate: (event) => event.data.id,
    initialState: { text: "" },
    on: {
      "note.added": (_state, event) => ({
        state: { text: event.data.text },
        schedule: [{ name: "remind", at: dueAt }],
      }),
    },
    timeouts: { remind: (state) => ({ state, done: true }) },
  });
  const { chronicle } = await openChronicle(undefined, [reminder]);
  await renderDevtools(chronicle);
  await until(() => Boolean(container.querySelector('[role="tab"]')), "the panel loads");
  await act(async () => tab("Processes").click());
  await until(() => container.textContent?.includes("No process instances.") === true, "none");

  await chronicle.execute(S, notes, { add: "n1", text: "call Bob" });
  const item = () => container.querySelector<HTMLElement>('li[data-process="note-reminder"]');
  await until(() => item() !== null, "the instance the event started shows up");
  expect(item()!.dataset.status).toBe("waiting");
  expect(item()!.textContent).toContain("n1");
  expect(JSON.parse(item()!.querySelector("pre")!.textContent!)).toEqual({ text: "call Bob" });
  const deadline = item()!.querySelector("[data-deadline=remind] time")!;
  expect(deadline.getAttribute("datetime")).toBe(new Date(dueAt).toISOString());
});

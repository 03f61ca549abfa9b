// Time travel and text benchmarks: stateAt in the middle of a 1,000,000-event stream with
// snapshots every 1,000 vs a full replay, and loading a text field with 100,000 edits with and
// without its snapshot. Ratios, measured in this process.
import {
  createEnvelope,
  createProjectionRunner,
  defineEvent,
  defineProjection,
  foldEvents,
  initialStateOf,
  MemoryEventStore,
  MemorySnapshotStore,
  type NewEvent,
  type RecordedEvent,
  stateAt,
} from "@chronicle/core";
import { defineTextField } from "@chronicle/core/text";
import { it } from "vitest";
import * as Y from "yjs";
import { z } from "zod";
import { printTable, time } from "./table.ts";

const counted = defineEvent({ type: "tick.counted", schema: z.object({ n: z.number() }) });
const total = defineProjection({
  name: "total",
  events: [counted],
  initialState: { sum: 0, count: 0 },
  handlers: { "tick.counted": (s, e) => ({ sum: s.sum + e.data.n, count: s.count + 1 }) },
  snapshotEvery: 1_000,
});

it("stateAt the middle of 1,000,000 events: snapshots every 1,000 vs full replay", async () => {
  const store = new MemoryEventStore();
  for (let i = 0; i < 1_000_000; i += 10_000) {
    const batch: NewEvent[] = Array.from({ length: 10_000 }, (_, j) =>
      createEnvelope("ticks", { type: "tick.counted", version: 1, data: { n: (i + j) % 13 } }),
    );
    await store.append("ticks", batch);
  }
  const snapshots = new MemorySnapshotStore();
  await createProjectionRunner({ store, snapshots }).read(total, "ticks");
  const at = { position: 500_500 };
  let replayMs = Number.POSITIVE_INFINITY;
  let snapshotMs = Number.POSITIVE_INFINITY;
  let replay: { state: { sum: number } } | undefined;
  let fast: { state: { sum: number }; snapshotPosition: number } | undefined;
  for (let round = 0; round < 3; round++) {
    replayMs = Math.min(
      replayMs,
      await time(async () => (replay = await stateAt(store, total, "ticks", at))),
    );
    snapshotMs = Math.min(
      snapshotMs,
      await time(async () => (fast = await stateAt(store, total, "ticks", at, { snapshots }))),
    );
  }
  if (replay?.state.sum !== fast?.state.sum) throw new Error("snapshot and replay disagree");
  printTable("stateAt(position 500,500) on a 1,000,000-event stream", [
    { case: "full replay", ms: replayMs, "events folded": 500_500 },
    {
      case: "nearest snapshot (every 1,000)",
      ms: snapshotMs,
      "events folded": 500_500 - (fast?.snapshotPosition ?? 0),
    },
    { case: "speed-up", ms: `${(replayMs / snapshotMs).toFixed(0)}x`, "events folded": "" },
  ]);
});

it("loading a text field with 100,000 edits: with vs without its snapshot", async () => {
  const text = defineTextField({ type: "doc.edited" });
  const projection = text.projection();
  const doc = new Y.Doc();
  const events: RecordedEvent[] = [];
  for (let i = 0; i < 100_000; i++) {
    const input = text.edit(doc, "d1", (t) => {
      if (i % 10 === 9) t.delete(Math.floor(t.length / 2), 1);
      else t.insert(Math.floor((t.length * (i % 7)) / 7), String.fromCharCode(97 + (i % 26)));
    })!;
    events.push({
      ...createEnvelope("doc", { ...input, version: 1 }),
      position: i + 1,
      recordedAt: i,
    });
  }
  // The snapshot a store would hold: the folded state at 99,000, as JSON.
  const snapshotJson = JSON.stringify(
    foldEvents(projection, initialStateOf(projection), events.slice(0, 99_000)),
  );
  let withoutMs = Number.POSITIVE_INFINITY;
  let withMs = Number.POSITIVE_INFINITY;
  let a = "";
  let b = "";
  for (let round = 0; round < 2; round++) {
    withoutMs = Math.min(
      withoutMs,
      await time(() => {
        a = text.read(foldEvents(projection, initialStateOf(projection), events), "d1");
      }),
    );
    withMs = Math.min(
      withMs,
      await time(() => {
        b = text.read(foldEvents(projection, JSON.parse(snapshotJson), events.slice(99_000)), "d1");
      }),
    );
  }
  if (a !== b || a !== doc.getText("text").toString()) throw new Error("text loads disagree");
  printTable(`Text field, 100,000 edits (${a.length} characters)`, [
    { case: "replay every edit", ms: withoutMs },
    { case: "snapshot at 99,000 + 1,000 edits", ms: withMs },
    { case: "speed-up", ms: `${(withoutMs / withMs).toFixed(0)}x` },
  ]);
});

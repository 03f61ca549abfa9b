// Node tier: cold start. A database with 100,000 events, a persisted projection record and a
// decider snapshot, both 10 events behind the head, is opened by a new engine: the projection
// and the decider must start from what is persisted and fold only those 10 events. Replaying
// the log would call the handlers 100,000 times, which the counters below would show.
import { createEnvelope } from "@chronicle/core";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { board, boardView, probes } from "../__fixtures__/board.ts";
import { ChronicleDb, type EventRow } from "../store/schema.ts";
import { openEngine } from "./open-engine.ts";

const total = 100_000;
const persistedAt = total - 10;

async function seed(factory: IDBFactory): Promise<void> {
  const db = new ChronicleDb("cold", { indexedDB: factory, IDBKeyRange });
  const rows: EventRow[] = Array.from({ length: total }, (_, index) => ({
    ...createEnvelope("board:1", {
      type: "card.added",
      version: 1,
      data: { id: `c${index}`, title: `Card ${index}` },
    }),
    position: index + 1,
    recordedAt: 1_000 + index,
    seq: index + 1,
  }));
  await db.events.bulkAdd(rows);
  // Markers no replay could produce: finding them proves the persisted state was used.
  await db.projections.put({
    key: "board-view/board:1",
    name: boardView.name,
    version: boardView.version,
    checkpoint: persistedAt,
    state: { count: persistedAt, titles: { marker: "persisted" } },
  });
  await db.snapshots.put({
    key: "decider/board/board:1",
    position: persistedAt,
    version: board.version,
    state: { ids: ["from-snapshot"], titles: { "from-snapshot": "From the snapshot" } },
    takenAt: 0,
  });
  db.close();
}

it("opens 100,000 events without replaying them: projections and deciders resume", async () => {
  const factory = new IDBFactory();
  await seed(factory);
  probes.projectCalls = 0;
  probes.evolveCalls = 0;
  const engine = await openEngine({
    name: "cold",
    deciders: [board],
    projections: [boardView],
    indexedDB: factory,
    IDBKeyRange,
  });

  const record = await engine.read("board-view", "board:1");
  expect(probes.projectCalls).toBe(10);
  expect(record.checkpoint).toBe(total);
  expect(record.state).toMatchObject({ count: total, titles: { marker: "persisted" } });

  const result = await engine.execute("board:1", "board", {
    type: "addCard",
    id: "new",
    title: "N",
  });
  expect(result.head).toBe(total + 1);
  // Decider: the snapshot plus the 10 events after it, then the new event (folded to see
  // whether a snapshot is due). Projection: only the new event.
  expect(probes.evolveCalls).toBe(11);
  expect(probes.projectCalls).toBe(11);
  expect(result.projections[0]).toMatchObject({
    checkpoint: total + 1,
    state: { count: total + 1 },
  });
  await engine.close();
}, 60_000);

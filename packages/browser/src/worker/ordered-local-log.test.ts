// Node tier: the worker's LocalLog passes core's LocalLog contract, and dropping pending events
// never leaves the list's last key in place (what the optimistic views check, invariant 14).
import { createEnvelope } from "@chronicle/core";
import { runLocalLogContract } from "@chronicle/core/testing/local-log-contract";
import Dexie from "dexie";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { cardAdded } from "../__fixtures__/board.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { OrderedLocalLog } from "./ordered-local-log.ts";

let databases = 0;
const fresh = () =>
  new OrderedLocalLog(
    new DexieEventStore({
      name: `ordered-${++databases}`,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
    }),
  );

runLocalLogContract("OrderedLocalLog (fake-indexeddb)", { makeLog: fresh });

it("drops pending events by writing the later ones again under new keys, in order", async () => {
  const log = fresh();
  const card = (id: string) =>
    createEnvelope("board:1", { type: cardAdded.type, version: 1, data: { id, title: id } });
  const events = ["a", "b", "c", "d"].map(card);
  await log.addPending("board:1", events);
  const keys = async () =>
    (await log.store.db.pending
      .where("[stream+localSeq]")
      .between(["board:1", Dexie.minKey], ["board:1", Dexie.maxKey])
      .primaryKeys()) as number[];
  const before = await keys();
  await log.dropPending("board:1", [events[1]!.id]);
  expect((await log.readPending("board:1")).map((p) => p.event.id)).toEqual(
    [events[0]!, events[2]!, events[3]!].map((e) => e.id),
  );
  const after = await keys();
  expect(after[0]).toBe(before[0]);
  expect(after.at(-1)).toBeGreaterThan(before.at(-1)!);
  // Dropping the last one changes the last key too.
  await log.dropPending("board:1", [events[3]!.id]);
  expect((await keys()).at(-1)).not.toBe(after.at(-1));
});

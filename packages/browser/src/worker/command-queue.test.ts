// Node tier: commands fired without awaiting are committed in groups (one transaction for the
// commands that queued up behind a running one), each answered for itself: a refused command
// fails alone, its neighbours commit, and the log holds exactly the accepted ones, in order.
import { isChronicleError } from "@chronicle/core";
import { createSyncStarter } from "@chronicle/sync";
import { createLoopbackTransport, MemoryNode } from "@chronicle/sync/testing";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, describe, expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import type { ChronicleEngine } from "./engine.ts";
import { openEngine } from "./open-engine.ts";

const S = "board:1";
let count = 0;
const opened: ChronicleEngine[] = [];
afterEach(async () => {
  for (const engine of opened.splice(0)) await engine.close();
});

async function engine(sync: boolean) {
  const opened_ = await openEngine({
    name: `queue-${++count}`,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    deciders: [board],
    projections: [boardView],
    undo: { captureWindowMs: 0 },
    ...(sync
      ? {
          sync: createSyncStarter({
            transport: createLoopbackTransport(new MemoryNode()),
            streams: [S],
            followNetwork: false,
            online: false,
          }),
        }
      : {}),
  });
  opened.push(opened_);
  return opened_;
}

describe.each([
  ["without sync", false],
  ["with sync (offline)", true],
])("commands fired at once, %s", (_label, sync) => {
  it("each resolves or rejects by itself, in order, in fewer transactions", async () => {
    const chronicle = await engine(sync);
    // Every tenth command adds a card that exists already: refused, alone.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) =>
        chronicle.execute(S, "board", {
          type: "addCard",
          id: i % 10 === 9 ? `c${i - 1}` : `c${i}`,
          title: `T${i}`,
        }),
      ),
    );
    outcomes.forEach((outcome, i) => {
      if (i % 10 === 9) {
        expect(outcome.status).toBe("rejected");
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(isChronicleError(reason, "validation")).toBe(true);
        expect((reason as Error).message).toContain(`c${i - 1}`);
      } else {
        expect(outcome.status).toBe("fulfilled");
        const { events } = (outcome as PromiseFulfilledResult<{ events: { data: unknown }[] }>)
          .value;
        expect(events.map((event) => event.data)).toEqual([{ id: `c${i}`, title: `T${i}` }]);
      }
    });
    const accepted = Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => i % 10 !== 9)
      .map((i) => `c${i}`);
    const record = await chronicle.read("board-view", S);
    expect(Object.keys((record.state as { titles: object }).titles)).toEqual(accepted);
    const stored = sync
      ? (await chronicle.history(S)).map((entry) => (entry.data as { id: string }).id)
      : (await chronicle.store.readStream(S)).map((event) => (event.data as { id: string }).id);
    expect(stored).toEqual(accepted);
    const { stats } = chronicle.commandQueue;
    expect(stats.batches).toBeGreaterThan(0);
    expect(stats.batches).toBeLessThan(50);
    expect(stats.retried).toBe(0);
  });

  it("a command whose events fail validation is refused alone", async () => {
    const chronicle = await engine(sync);
    const commands = Array.from({ length: 20 }, (_, i) =>
      i === 7
        ? { type: "addCard" as const, id: "bad", title: "" } // the schema refuses an empty title
        : { type: "addCard" as const, id: `c${i}`, title: `T${i}` },
    );
    const outcomes = await Promise.allSettled(
      commands.map((command) => chronicle.execute(S, "board", command)),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(
      commands.map((_, i) => (i === 7 ? "rejected" : "fulfilled")),
    );
    const record = await chronicle.read("board-view", S);
    expect((record.state as { count: number }).count).toBe(19);
  });
});

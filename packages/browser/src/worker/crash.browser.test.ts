// Browser tier: atomicity under a crash. The worker is terminated while a 20,000-event command
// is inside its transaction (the events' writes are issued, the projections are being folded);
// after reopening, the log holds all of the command or none of it, and the projection agrees
// with it. Both ways a command writes: on the state the worker knows from its last command (no
// reads, committed explicitly), and the ordinary way (a worker that has not written yet).
import { expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { connect } from "../__fixtures__/connect.ts";
import { DexieEventStore } from "../store/dexie-store.ts";

it.each([
  ["on the state the worker knows", false],
  ["the ordinary way", true],
])(
  "a worker terminated in the middle of a large command (%s) leaves all or nothing",
  async (_, reopen) => {
    const name = `crash-${crypto.randomUUID().slice(0, 8)}`;
    let first = await connect(name);
    await first.chronicle.execute("board:1", board, { type: "addCard", id: "seed", title: "Seed" });
    if (reopen) {
      await first.chronicle.close();
      first.worker.terminate();
      first = await connect(name);
    }

    const projecting = new Promise<void>((resolve) => {
      first.worker.addEventListener("message", (message: MessageEvent) => {
        if (message.data?.probe !== "projecting") return;
        first.worker.terminate();
        resolve();
      });
    });
    first.worker.postMessage({ probe: "arm" });
    const count = 20_000;
    // Never settles: its worker is gone.
    first.chronicle
      .execute("board:1", board, { type: "addMany", count, prefix: "m" })
      .catch(() => {});
    await projecting;

    // Reopen from another worker, and look at the raw tables from the page.
    const second = await connect(name);
    const store = new DexieEventStore({ name, broadcast: false });
    const head = await store.head("board:1");
    expect([1, 1 + count]).toContain(head);
    expect(await store.lastCheckpoint()).toBe(head);
    const record = await store.db.projections.get("board-view/board:1");
    expect(record).toMatchObject({ checkpoint: head, state: { count: head } });
    expect(await second.chronicle.load(boardView, "board:1")).toMatchObject({ count: head });
    console.info(`crash test: the command was ${head === 1 ? "rolled back" : "committed whole"}`);

    // The database is healthy: the next command commits.
    const next = await second.chronicle.execute("board:1", board, {
      type: "addCard",
      id: "after",
      title: "After",
    });
    expect(next.head).toBe(head + 1);
    await store.close();
    await second.chronicle.close();
  },
);

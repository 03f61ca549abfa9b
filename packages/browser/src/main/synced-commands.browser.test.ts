// Browser tier (real IndexedDB): synced commands at local speed (docs/architecture.md, "The
// browser host", invariant 14). An offline session of 1,000 commands then online converges
// exactly with a real node (`wrangler dev`, from the browser config's global setup); commands
// fired at once are each answered for themselves; the first command after a cold open starts
// from the persisted decider state (it folds the tail, not the stream).
import { defineDecider, type SyncStatus } from "@chronicle/core";
import { createSyncStarter, createWebSocketTransport, type SyncEngine } from "@chronicle/sync";
import { expect, inject, it } from "vitest";
import { board, boardView, cardAdded, cardRemoved } from "../__fixtures__/board.ts";
import { hostChronicle } from "../worker/host.ts";
import { createChronicle } from "./create-chronicle.ts";

declare module "vitest" {
  export interface ProvidedContext {
    syncNode: { url: string; tokens: { alice: string; bob: string } };
  }
}

const run = crypto.randomUUID().slice(0, 8);

/** The board decider without `snapshotEvery`, counting the events it folds. */
let folded = 0;
const plainBoard = defineDecider({
  name: "plain-board",
  events: [cardAdded, cardRemoved],
  initialState: board.initialState,
  evolve(state, event) {
    folded++;
    return board.evolve(state, event);
  },
  decide: (command: Parameters<typeof board.decide>[0], state) => board.decide(command, state),
});

async function host(name: string, options: { sync?: { stream: string; online: boolean } } = {}) {
  const { url, tokens } = inject("syncNode");
  let engine: SyncEngine | undefined;
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name,
      deciders: [board, plainBoard],
      projections: [boardView],
      actor: "alice",
      ...(options.sync
        ? {
            sync: createSyncStarter({
              transport: createWebSocketTransport({ url, token: tokens.alice }),
              streams: [options.sync.stream],
              followNetwork: false,
              online: options.sync.online,
              onEngine: (created) => {
                engine = created;
              },
            }),
          }
        : {}),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  const status = (stream: string, match: (status: SyncStatus) => boolean) =>
    new Promise<SyncStatus>((resolve) => {
      const off = chronicle.onSyncStatus(stream, (current) => {
        if (!match(current)) return;
        queueMicrotask(() => off());
        resolve(current);
      });
    });
  return { chronicle, status, engine: () => engine! };
}

const ids = (events: readonly { data: unknown }[]) =>
  events.map((event) => (event.data as { id: string }).id);

it("an offline session of 1,000 commands, then online, converges exactly with the node", async () => {
  const S = `board:${run}-offline`;
  const a = await host(`synced-${run}-a`, { sync: { stream: S, online: false } });
  await a.status(S, (s) => s.state === "offline");
  // Commands awaited one by one, then a burst fired at once; some are refused (duplicates).
  for (let i = 0; i < 500; i++) {
    await a.chronicle.execute(S, board, { type: "addCard", id: `c${i}`, title: `T${i}` });
  }
  const burst = await Promise.allSettled(
    Array.from({ length: 500 }, (_, i) =>
      i % 50 === 49
        ? a.chronicle.execute(S, board, { type: "removeCard", id: `c${i}` })
        : a.chronicle.execute(S, board, { type: "addCard", id: `d${i}`, title: `U${i}` }),
    ),
  );
  expect(burst.every((outcome) => outcome.status === "fulfilled")).toBe(true);
  const refused = await a.chronicle
    .execute(S, board, { type: "addCard", id: "c0", title: "again" })
    .catch((error: unknown) => error);
  expect(refused).toMatchObject({ code: "validation" });
  const optimistic = await a.chronicle.load(boardView, S);
  expect(optimistic.count).toBe(500 + 490 - 10);
  await a.status(S, (s) => s.state === "offline" && s.pending === 1000);

  a.engine().setOnline(true);
  await a.status(S, (s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === 1000);
  const log = await a.chronicle.readStream(S);
  expect(log.map((event) => event.position)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  expect((await a.chronicle.history(S)).filter((entry) => entry.pending)).toEqual([]);
  // The confirmed state equals the optimistic one the app saw, and a fresh fold of the log.
  expect(await a.chronicle.load(boardView, S)).toEqual(optimistic);

  // A fresh device holds exactly the node's log and state.
  const b = await host(`synced-${run}-b`, { sync: { stream: S, online: true } });
  await b.status(S, (s) => s.state === "synced" && s.confirmedHead === 1000);
  expect(await b.chronicle.readStream(S)).toEqual(log);
  expect(await b.chronicle.load(boardView, S)).toEqual(optimistic);
  await Promise.all([a.chronicle.close(), b.chronicle.close()]);
}, 120_000);

it.each([
  ["without sync", false],
  ["with sync (offline)", true],
])(
  "commands fired at once %s each resolve or reject by themselves",
  async (_label, sync) => {
    const S = `board:${run}-burst-${sync}`;
    const { chronicle } = await host(
      `synced-${run}-burst-${sync}`,
      sync ? { sync: { stream: S, online: false } } : {},
    );
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) =>
        chronicle.execute(S, board, {
          type: "addCard",
          // Every hundredth command repeats the previous card: refused, alone.
          id: i % 100 === 99 ? `c${i - 1}` : `c${i}`,
          title: `T${i}`,
        }),
      ),
    );
    const accepted: string[] = [];
    outcomes.forEach((outcome, i) => {
      if (i % 100 === 99) {
        expect(outcome).toMatchObject({ status: "rejected", reason: { code: "validation" } });
      } else {
        expect(outcome.status).toBe("fulfilled");
        const { events } = (outcome as PromiseFulfilledResult<{ events: { data: unknown }[] }>)
          .value;
        expect(ids(events)).toEqual([`c${i}`]);
        accepted.push(`c${i}`);
      }
    });
    const history = await chronicle.history(S, { limit: 2000 });
    expect(ids(history)).toEqual(accepted);
    expect(await chronicle.load(boardView, S)).toMatchObject({ count: 990 });
    await chronicle.close();
  },
  120_000,
);

it("the first command after a cold open folds the decider's persisted state and the tail only", async () => {
  const S = `board:${run}-cold`;
  const name = `synced-${run}-cold`;
  const first = await host(name);
  for (let i = 0; i < 5; i++) {
    await first.chronicle.execute(S, plainBoard, {
      type: "addMany",
      count: 1000,
      prefix: `p${i}-`,
    });
  }
  for (let i = 0; i < 20; i++) {
    await first.chronicle.execute(S, plainBoard, { type: "addCard", id: `t${i}`, title: "T" });
  }
  await first.chronicle.close();

  const second = await host(name);
  expect(await second.chronicle.load(boardView, S)).toMatchObject({ count: 5020 });
  folded = 0;
  const result = await second.chronicle.execute(S, plainBoard, {
    type: "addCard",
    id: "new",
    title: "N",
  });
  expect(result.head).toBe(5021);
  // The decider sets no snapshotEvery: the host snapshots it every 1,000 events anyway, so the
  // command folds at most the 20 events after the last snapshot (5,000), then its own event.
  expect(folded).toBeLessThanOrEqual(21);
  await second.chronicle.close();
}, 120_000);

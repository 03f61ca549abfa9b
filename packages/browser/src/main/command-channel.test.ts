// Node tier: the commands port (command-channel.ts on the main thread, command-port.ts in the
// worker) over a real MessageChannel, on fake-indexeddb. A command written on a known state is
// answered `early`, while its transaction commits; these tests make that transaction fail after
// the early answer was sent (another tab, whose commit notice is not sent, wrote meanwhile), and
// check that the main thread settles with what really happened, never with the early result.
import { createEnvelope, isChronicleError } from "@chronicle/core";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { afterEach, expect, it } from "vitest";
import { board, boardView, cardAdded, cardRemoved } from "../__fixtures__/board.ts";
import { openBoardEngine } from "../__fixtures__/engine.ts";
import type { CommandReply } from "../shared/host-api.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { serveCommands } from "../worker/command-port.ts";
import { hostChronicle } from "../worker/host.ts";
import { createCommandChannel } from "./command-channel.ts";
import { createChronicle } from "./create-chronicle.ts";

let factory = new IDBFactory();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  factory = new IDBFactory();
});

async function tab() {
  const engine = await openBoardEngine("command-channel-test", factory);
  // The early results handed to the main thread before their commit, and when.
  const earlies: unknown[] = [];
  const channel = createCommandChannel((result) => earlies.push(result));
  // What the worker side answers, by kind.
  const answers: CommandReply["kind"][] = [];
  const post = channel.remotePort.postMessage.bind(channel.remotePort);
  channel.remotePort.postMessage = (reply: CommandReply) => {
    answers.push(reply.kind);
    post(reply);
  };
  const stop = serveCommands(channel.remotePort, () => engine, new WeakSet());
  closers.push(async () => {
    stop();
    channel.close();
    await engine.close();
  });
  const add = (id: string) =>
    channel.execute("board:1", "board", { type: "addCard", id, title: `Card ${id}` });
  return { engine, channel, answers, add, earlies };
}

/** Another tab appends a card without telling this one (no commit notice). */
async function otherTabAdds(id: string) {
  const store = new DexieEventStore({
    name: "command-channel-test",
    indexedDB: factory,
    IDBKeyRange,
    broadcast: false,
  });
  const event = createEnvelope(
    "board:1",
    { type: "card.added", version: 1, data: { id, title: `Card ${id}` } },
    { actor: "other", device: "other" },
  );
  await store.append("board:1", [event]);
  await store.close();
  store.db.close();
}

const titlesOf = (result: { projections: Array<{ state: unknown }> }) =>
  Object.keys((result.projections[0]!.state as { titles: object }).titles);

it("answers a command on a known state early, then confirms it once committed", async () => {
  const mine = await tab();
  const { engine, answers, add } = mine;
  await add("a");
  answers.length = 0;
  const { earlies } = mine;
  earlies.length = 0;
  const result = await add("b");
  expect(answers).toEqual(["early", "committed"]);
  // Handed over to be prepared before the commit, and settled with that same result.
  expect(earlies).toEqual([result]);
  expect(result.head).toBe(2);
  expect(titlesOf(result)).toEqual(["a", "b"]);
  expect(engine.speculation).toMatchObject({ speculated: 1, stale: 0 });
});

it("settles with the command run again when the early answer's write was refused", async () => {
  const mine = await tab();
  await mine.add("a");
  await mine.add("b");
  await otherTabAdds("c");
  mine.answers.length = 0;
  const result = await mine.add("d");
  // The early answer (d after b, without c) was sent, then replaced.
  expect(mine.answers).toEqual(["early", "result"]);
  expect(mine.engine.speculation.stale).toBe(1);
  expect(result.head).toBe(4);
  expect(titlesOf(result)).toEqual(["a", "b", "c", "d"]);
});

it("fails the command when, run again, it is refused, though an early answer said otherwise", async () => {
  const mine = await tab();
  await mine.add("a");
  await otherTabAdds("y"); // on mine's known state, card y does not exist yet
  mine.answers.length = 0;
  const error = await mine.add("y").catch((e: unknown) => e);
  expect(mine.answers).toEqual(["early", "error"]);
  expect(isChronicleError(error, "validation")).toBe(true);
  expect(await mine.engine.store.head("board:1")).toBe(2);
});

it("fails a command that cannot be sent with validation, and one under way at close", async () => {
  const { channel, add } = await tab();
  const unsendable = channel.execute("board:1", "board", { type: "addCard", f: () => 0 });
  expect(isChronicleError(await unsendable.catch((e: unknown) => e), "validation")).toBe(true);
  const underWay = add("z");
  channel.close();
  expect(isChronicleError(await underWay.catch((e: unknown) => e), "internal")).toBe(true);
});

it("close() waits for the answers to commands already sent", async () => {
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: "command-channel-close",
      events: [cardAdded, cardRemoved],
      deciders: [board],
      projections: [boardView],
      indexedDB: factory,
      IDBKeyRange,
    },
    port2 as never,
  );
  const chronicle = await createChronicle({ worker: port1 as never, persist: false });
  await chronicle.execute("board:1", board, { type: "addCard", id: "a", title: "A" });
  const known = chronicle.execute("board:1", board, { type: "addCard", id: "b", title: "B" });
  const ordinary = chronicle.execute("board:2", board, { type: "addCard", id: "z", title: "Z" });
  await chronicle.close();
  expect((await known).head).toBe(2);
  expect((await ordinary).head).toBe(1);
  // Both are stored (in whichever order their transactions committed).
  const store = new DexieEventStore({
    name: "command-channel-close",
    indexedDB: factory,
    IDBKeyRange,
  });
  const stored = (await store.readAll()).map((e) => `${e.event.stream}@${e.event.position}`);
  expect(stored.sort()).toEqual(["board:1@1", "board:1@2", "board:2@1"]);
  await store.close();
  store.db.close();
});

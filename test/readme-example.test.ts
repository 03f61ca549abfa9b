// The README's twenty-line example, verbatim in behaviour: if this breaks, the README lies.
import {
  ChronicleError,
  createCommandHandler,
  createProjectionRunner,
  defineDecider,
  defineEvent,
  defineProjection,
  MemoryEventStore,
} from "@chronicle/core";
import { deciderSpec } from "@chronicle/core/testing";
import { expect, it } from "vitest";
import { z } from "zod";

const cardAdded = defineEvent({
  type: "card.added",
  schema: z.object({ id: z.string(), title: z.string().min(1) }),
});
const cardMoved = defineEvent({
  type: "card.moved",
  schema: z.object({ id: z.string(), to: z.string() }),
});

const board = defineDecider({
  name: "board",
  events: [cardAdded, cardMoved],
  initialState: { cards: {} as Record<string, string> },
  evolve: (s, e) => ({
    cards: { ...s.cards, [e.data.id]: e.type === "card.added" ? "todo" : e.data.to },
  }),
  decide: (c: { add: string } | { move: string; to: string }, s) => {
    if ("add" in c) return cardAdded.create({ id: crypto.randomUUID(), title: c.add });
    if (!s.cards[c.move]) throw new ChronicleError("not-found", `no card ${c.move}`);
    return cardMoved.create({ id: c.move, to: c.to });
  },
});
const perColumn = defineProjection({
  name: "per-column",
  events: [cardAdded, cardMoved],
  initialState: { todo: 0 } as Record<string, number>,
  handlers: { "card.added": (s) => ({ ...s, todo: (s.todo ?? 0) + 1 }) },
});

it("runs the README example", async () => {
  const store = new MemoryEventStore();
  const handle = createCommandHandler(store, board, {
    context: { actor: "alice", device: "laptop" },
  });
  await handle("board:1", { add: "Write docs" });
  expect(await createProjectionRunner({ store }).read(perColumn, "board:1")).toEqual({ todo: 1 });
  await expect(handle("board:1", { add: "" })).rejects.toMatchObject({ code: "validation" });
});

it("runs the README's given/when/then example", () => {
  deciderSpec(board)
    .given([cardAdded.create({ id: "c1", title: "A" })])
    .when({ move: "c1", to: "done" })
    .then([cardMoved.create({ id: "c1", to: "done" })]);
  deciderSpec(board).given([]).when({ move: "nope", to: "x" }).thenThrows("not-found");
});

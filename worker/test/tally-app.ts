// internal: test fixture. A small app for the snapshot tests: a decider counting cards and a
// projection listing their tags, over the `card.added` events node-client.ts writes.
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import { z } from "zod";

export const cardAdded = defineEvent({
  type: "card.added",
  schema: z.object({ tag: z.string(), index: z.number() }),
});

export const tally = defineDecider({
  name: "tally",
  version: 1,
  events: [cardAdded],
  initialState: { count: 0, last: -1 },
  evolve: (state, event) => ({ count: state.count + 1, last: event.data.index }),
  decide: (command: { tag: string }, state) => {
    if (command.tag === "") throw new ChronicleError("validation", "a tag is needed");
    return cardAdded.create({ tag: command.tag, index: state.count });
  },
});

export const tags = defineProjection({
  name: "tags",
  version: 1,
  events: [cardAdded],
  initialState: [] as string[],
  handlers: {
    "card.added": (state, { data }) => [...state, `${data.tag}${data.index}`],
  },
});

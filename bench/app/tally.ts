// internal: not exported. The app the browser benchmarks run: one event type, a decider and a
// projection whose folds are O(1) per event, so the figures measure the engine, not the app (the
// board fixture copies its card list on every event: 100,000 events would be quadratic).
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import { z } from "zod";

export const itemAdded = defineEvent({
  type: "item.added",
  schema: z.object({ id: z.string(), title: z.string().min(1) }),
});

export type TallyCommand =
  | { type: "add"; id: string; title: string }
  | { type: "addMany"; count: number; prefix: string };

export const tally = defineDecider({
  name: "tally",
  events: [itemAdded],
  initialState: { count: 0, lastId: "" },
  // As apps with long streams set it (the default is no snapshots).
  snapshotEvery: 1000,
  evolve: (state, event) => ({ count: state.count + 1, lastId: event.data.id }),
  decide(command: TallyCommand, state) {
    if (command.type === "add") {
      if (command.id === state.lastId) {
        throw new ChronicleError("validation", `item ${command.id} was just added`);
      }
      return itemAdded.create({ id: command.id, title: command.title });
    }
    return Array.from({ length: command.count }, (_, i) =>
      itemAdded.create({ id: `${command.prefix}${i}`, title: `Item ${i}` }),
    );
  },
});

export const tallyView = defineProjection({
  name: "tally-view",
  events: [itemAdded],
  initialState: { count: 0, titleChars: 0, lastId: "" },
  handlers: {
    "item.added": (state, { data }) => ({
      count: state.count + 1,
      titleChars: state.titleChars + data.title.length,
      lastId: data.id,
    }),
  },
});

// internal: not exported. A small kanban app for the package's tests and benchmarks.
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import { z } from "zod";

export const cardAdded = defineEvent({
  type: "card.added",
  schema: z.object({ id: z.string(), title: z.string().min(1) }),
});

export const cardRemoved = defineEvent({
  type: "card.removed",
  schema: z.object({ id: z.string() }),
});

export type BoardCommand =
  | { type: "addCard"; id: string; title: string }
  | { type: "addMany"; count: number; prefix: string }
  | { type: "removeCard"; id: string };

export const board = defineDecider({
  name: "board",
  events: [cardAdded, cardRemoved],
  initialState: { ids: [] as string[] },
  snapshotEvery: 1000,
  evolve(state, event) {
    probes.evolveCalls++;
    if (event.type === "card.added") return { ids: [...state.ids, event.data.id] };
    return { ids: state.ids.filter((id) => id !== event.data.id) };
  },
  decide(command: BoardCommand, state) {
    switch (command.type) {
      case "addCard":
        if (state.ids.includes(command.id)) {
          throw new ChronicleError("validation", `card ${command.id} exists`, {
            details: { id: command.id },
          });
        }
        return cardAdded.create({ id: command.id, title: command.title });
      case "addMany":
        return Array.from({ length: command.count }, (_, i) =>
          cardAdded.create({ id: `${command.prefix}${i}`, title: `Card ${i}` }),
        );
      case "removeCard":
        if (!state.ids.includes(command.id)) {
          throw new ChronicleError("not-found", `no card ${command.id}`);
        }
        return cardRemoved.create({ id: command.id });
    }
  },
});

/** Counters and hooks the tests read; handlers count their calls here. */
export const probes = {
  evolveCalls: 0,
  projectCalls: 0,
  onProject: undefined as undefined | (() => void),
};

export const boardView = defineProjection({
  name: "board-view",
  events: [cardAdded, cardRemoved],
  initialState: { count: 0, titles: {} as Record<string, string> },
  handlers: {
    "card.added": (state, { data }) => {
      probes.projectCalls++;
      probes.onProject?.();
      return { count: state.count + 1, titles: { ...state.titles, [data.id]: data.title } };
    },
    "card.removed": (state, { data }) => {
      probes.projectCalls++;
      const { [data.id]: _removed, ...titles } = state.titles;
      return { count: state.count - 1, titles };
    },
  },
});

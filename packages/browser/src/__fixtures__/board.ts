// internal: not exported. A small kanban app for the package's tests and benchmarks.
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import { z } from "zod";

interface BoardState {
  ids: string[];
  titles: Record<string, string>;
}

export const cardAdded = defineEvent({
  type: "card.added",
  schema: z.object({ id: z.string(), title: z.string().min(1) }),
  invert: ({ data }, { now }: { now: BoardState }) =>
    now.ids.includes(data.id)
      ? { type: "card.removed", data: { id: data.id } }
      : { skip: `card "${data.title}" was removed meanwhile` },
});

export const cardRemoved = defineEvent({
  type: "card.removed",
  schema: z.object({ id: z.string() }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) => {
    const title = before.titles[data.id];
    if (title === undefined) return { skip: "the card did not exist" };
    if (now.ids.includes(data.id)) return { skip: "a card with this id exists again" };
    return { type: "card.added", data: { id: data.id, title } };
  },
});

export type BoardCommand =
  | { type: "addCard"; id: string; title: string }
  | { type: "addMany"; count: number; prefix: string }
  | { type: "removeCard"; id: string };

export const board = defineDecider({
  name: "board",
  events: [cardAdded, cardRemoved],
  initialState: { ids: [], titles: {} } as BoardState,
  snapshotEvery: 1000,
  evolve(state, event): BoardState {
    probes.evolveCalls++;
    if (event.type === "card.added") {
      return {
        ids: [...state.ids, event.data.id],
        titles: { ...state.titles, [event.data.id]: event.data.title },
      };
    }
    const { [event.data.id]: _removed, ...titles } = state.titles;
    return { ids: state.ids.filter((id) => id !== event.data.id), titles };
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

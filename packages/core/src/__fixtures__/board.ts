// internal: not exported. A small kanban app used by core's tests and benchmarks.
import { z } from "zod";
import { defineDecider } from "../decider/define-decider.ts";
import { ChronicleError } from "../errors.ts";
import { defineEvent } from "../events/define-event.ts";
import { defineProjection } from "../projection/define-projection.ts";

export type Card = { title: string; column: string };
export type BoardState = { cards: Record<string, Card> };

export const cardAdded = defineEvent({
  type: "card.added",
  version: 2,
  schema: z.object({ id: z.string(), title: z.string().min(1), column: z.string() }),
  // v1 had no column: such cards start in "todo".
  upcasters: { 1: (v1: { id: string; title: string }) => ({ ...v1, column: "todo" }) },
  invert: ({ data }, { now }: { now: BoardState }) =>
    now.cards[data.id]
      ? { type: "card.removed", data: { id: data.id } }
      : { skip: `card "${data.title}" was already removed` },
});

export const cardMoved = defineEvent({
  type: "card.moved",
  schema: z.object({ id: z.string(), to: z.string() }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) => {
    const was = before.cards[data.id];
    if (!was || !now.cards[data.id]) return { skip: "the card was removed" };
    return { type: "card.moved", data: { id: data.id, to: was.column } };
  },
});

export const cardRemoved = defineEvent({
  type: "card.removed",
  schema: z.object({ id: z.string() }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) => {
    const was = before.cards[data.id];
    if (!was) return { skip: "the card did not exist" };
    if (now.cards[data.id]) return { skip: "a card with this id exists again" };
    return { type: "card.added", data: { id: data.id, title: was.title, column: was.column } };
  },
});

export type BoardCommand =
  | { type: "addCard"; id: string; title: string; column?: string }
  | { type: "moveCard"; id: string; to: string }
  | { type: "removeCard"; id: string };

export const boardDecider = defineDecider({
  name: "board",
  events: [cardAdded, cardMoved, cardRemoved],
  initialState: { cards: {} } as BoardState,
  evolve(state, event) {
    switch (event.type) {
      case "card.added":
        return {
          cards: {
            ...state.cards,
            [event.data.id]: { title: event.data.title, column: event.data.column },
          },
        };
      case "card.moved": {
        const card = state.cards[event.data.id];
        return card
          ? { cards: { ...state.cards, [event.data.id]: { ...card, column: event.data.to } } }
          : state;
      }
      case "card.removed": {
        const { [event.data.id]: _removed, ...cards } = state.cards;
        return { cards };
      }
    }
  },
  decide(command: BoardCommand, state) {
    switch (command.type) {
      case "addCard":
        if (state.cards[command.id]) {
          throw new ChronicleError("validation", `card ${command.id} exists`);
        }
        return cardAdded.create({
          id: command.id,
          title: command.title,
          column: command.column ?? "todo",
        });
      case "moveCard": {
        const card = state.cards[command.id];
        if (!card) throw new ChronicleError("not-found", `no card ${command.id}`);
        if (card.column === command.to) return [];
        return [cardMoved.create({ id: command.id, to: command.to })];
      }
      case "removeCard":
        if (!state.cards[command.id])
          throw new ChronicleError("not-found", `no card ${command.id}`);
        return [cardRemoved.create({ id: command.id })];
    }
  },
});

export const columnCounts = defineProjection({
  name: "column-counts",
  events: [cardAdded, cardMoved, cardRemoved],
  initialState: { columns: {} as Record<string, number>, where: {} as Record<string, string> },
  handlers: {
    "card.added": (state, { data }) => ({
      columns: { ...state.columns, [data.column]: (state.columns[data.column] ?? 0) + 1 },
      where: { ...state.where, [data.id]: data.column },
    }),
    "card.moved": (state, { data }) => {
      const from = state.where[data.id];
      if (from === undefined) return state;
      return {
        columns: {
          ...state.columns,
          [from]: (state.columns[from] ?? 0) - 1,
          [data.to]: (state.columns[data.to] ?? 0) + 1,
        },
        where: { ...state.where, [data.id]: data.to },
      };
    },
  },
});

// The demo's domain: a kanban board, one stream per board. Events are facts; each says how to
// undo itself against the current state.
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import type { TextEditData } from "@chronicle/core/text";
import { z } from "zod";

/** The one board of the demo (a stream per board). */
export const STREAM = "board:demo";

/** The BroadcastChannel on which a device's pages tell its worker to go offline or online. */
export const networkChannel = (device: string) => `chronicle-demo-network-${device}`;

export const columns = ["todo", "doing", "done"] as const;
export type Column = (typeof columns)[number];
export const labels: Record<Column, string> = { todo: "To do", doing: "Doing", done: "Done" };
export interface Card {
  title: string;
  column: Column;
  /** When the card is due (ms since the epoch), if it has a due date. */
  dueAt?: number;
}
export interface BoardState {
  cards: Record<string, Card>;
}
const emptyBoard: BoardState = { cards: {} };

const column = z.enum(columns);

export const cardAdded = defineEvent({
  type: "card.added",
  schema: z.object({
    id: z.string(),
    title: z.string().trim().min(1, "a card needs a title").max(200),
    column,
  }),
  invert: ({ data }, { now }: { now: BoardState }) =>
    now.cards[data.id]
      ? { type: "card.removed", data: { id: data.id } }
      : { skip: "the card was already deleted" },
});
export const cardMoved = defineEvent({
  type: "card.moved",
  schema: z.object({ id: z.string(), to: column }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) =>
    before.cards[data.id] && now.cards[data.id]
      ? { type: "card.moved", data: { id: data.id, to: before.cards[data.id]!.column } }
      : { skip: "the card was deleted" },
});
export const cardRenamed = defineEvent({
  type: "card.renamed",
  schema: z.object({
    id: z.string(),
    title: z.string().trim().min(1, "a card needs a title").max(200),
  }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) =>
    before.cards[data.id] && now.cards[data.id]
      ? { type: "card.renamed", data: { id: data.id, title: before.cards[data.id]!.title } }
      : { skip: "the card was deleted" },
});
export const cardRemoved = defineEvent({
  type: "card.removed",
  schema: z.object({ id: z.string() }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) => {
    const card = before.cards[data.id];
    if (!card || now.cards[data.id]) return { skip: "the card cannot be restored" };
    return { type: "card.added", data: { id: data.id, title: card.title, column: card.column } };
  },
});

export const cardDueSet = defineEvent({
  type: "card.due-set",
  schema: z.object({ id: z.string(), dueAt: z.number().int().nonnegative().nullable() }),
  invert: ({ data }, { before, now }: { before: BoardState; now: BoardState }) =>
    before.cards[data.id] && now.cards[data.id]
      ? { type: "card.due-set", data: { id: data.id, dueAt: before.cards[data.id]!.dueAt ?? null } }
      : { skip: "the card was deleted" },
});

const boardEvents = [cardAdded, cardMoved, cardRenamed, cardRemoved, cardDueSet] as const;

export type BoardCommand =
  | { type: "addCard"; id: string; title: string; column?: Column }
  | { type: "moveCard"; id: string; to: Column }
  | { type: "renameCard"; id: string; title: string }
  | { type: "removeCard"; id: string }
  | { type: "setDue"; id: string; dueAt: number | null };

function apply(state: BoardState, event: { type: string; data: any }): BoardState {
  const cards = { ...state.cards };
  switch (event.type) {
    case "card.added":
      cards[event.data.id] = { title: event.data.title, column: event.data.column };
      break;
    case "card.moved":
      if (cards[event.data.id])
        cards[event.data.id] = { ...cards[event.data.id]!, column: event.data.to };
      break;
    case "card.renamed":
      if (cards[event.data.id])
        cards[event.data.id] = { ...cards[event.data.id]!, title: event.data.title };
      break;
    case "card.removed":
      delete cards[event.data.id];
      break;
    case "card.due-set": {
      const card = cards[event.data.id];
      if (!card) break;
      const { dueAt: _previous, ...rest } = card;
      cards[event.data.id] =
        event.data.dueAt === null ? rest : { ...rest, dueAt: event.data.dueAt };
      break;
    }
  }
  return { cards };
}

export const board = defineDecider({
  name: "board",
  events: boardEvents,
  initialState: emptyBoard,
  evolve: apply,
  decide(command: BoardCommand, state) {
    const card = command.type === "addCard" ? undefined : state.cards[command.id];
    switch (command.type) {
      case "addCard":
        if (state.cards[command.id])
          throw new ChronicleError("validation", "this card exists already");
        return cardAdded.create({
          id: command.id,
          title: command.title,
          column: command.column ?? "todo",
        });
      case "moveCard":
        if (!card) throw new ChronicleError("not-found", "this card was deleted");
        return card.column === command.to
          ? []
          : cardMoved.create({ id: command.id, to: command.to });
      case "renameCard":
        if (!card) throw new ChronicleError("not-found", "this card was deleted");
        return card.title === command.title.trim()
          ? []
          : cardRenamed.create({ id: command.id, title: command.title });
      case "removeCard":
        if (!card) throw new ChronicleError("not-found", "this card was deleted");
        return cardRemoved.create({ id: command.id });
      case "setDue":
        if (!card) throw new ChronicleError("not-found", "this card was deleted");
        return (card.dueAt ?? null) === command.dueAt
          ? []
          : cardDueSet.create({ id: command.id, dueAt: command.dueAt });
    }
  },
});

/** The read model the board renders. */
export const boardView = defineProjection({
  name: "board-view",
  events: boardEvents,
  initialState: emptyBoard,
  handlers: {
    "card.added": apply,
    "card.moved": apply,
    "card.renamed": apply,
    "card.removed": apply,
    "card.due-set": apply,
  },
});

/**
 * The label of a command's undo step, as the Undo / Redo buttons show it: the worker's
 * `undo.labelOf`, given the commands of the board and of the description field.
 */
export function undoLabel(command: BoardCommand | TextEditData): string | undefined {
  if (!("type" in command)) return "Edit description";
  switch (command.type) {
    case "addCard":
      return `Add “${command.title}”`;
    case "moveCard":
      return `Move to ${labels[command.to]}`;
    case "renameCard":
      return `Rename to “${command.title}”`;
    case "removeCard":
      return "Delete card";
    case "setDue":
      return command.dueAt === null ? "Clear due date" : "Set due date";
  }
}

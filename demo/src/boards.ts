// Many boards: each board is its own stream `board:<id>` (so the node's directory lists them in
// the space `board`), named by a `board.created` event on it. The board list is a cross-stream
// projection over every `board:` stream, so a board made on another device appears in it once
// the worker's follower has synced that stream.
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import type { TextEditData } from "@chronicle/core/text";
import { z } from "zod";
import { type BoardCommand, cardAdded, cardRemoved, STREAM, undoLabel } from "./board.ts";

/** The prefix of every board's stream. */
export const BOARD_PREFIX = "board:";
/** The board shown when the URL names none (the demo's first board, `board:demo`). */
export const DEFAULT_BOARD = STREAM.slice(BOARD_PREFIX.length);
/** What the default board is called: it has no `board.created` event. */
export const DEFAULT_BOARD_NAME = "Demo board";

/** The stream of a board. */
export const boardStream = (id: string) => `${BOARD_PREFIX}${id}`;

const name = z.string().trim().min(1, "a board needs a name").max(80);

export const boardCreated = defineEvent({
  type: "board.created",
  schema: z.object({ name }),
});

export interface BoardInfo {
  /** Whether `board.created` is in the stream (the default board has none). */
  created: boolean;
  name?: string;
}

export type BoardInfoCommand = { type: "createBoard"; name: string };

/** Creates boards; the cards are the `board` decider's, on the same stream. */
export const boardInfo = defineDecider({
  name: "board-info",
  events: [boardCreated],
  initialState: { created: false } as BoardInfo,
  evolve: (_state, event): BoardInfo => ({ created: true, name: event.data.name }),
  decide(command: BoardInfoCommand, state) {
    if (state.created) throw new ChronicleError("validation", "this board exists already");
    return boardCreated.create({ name: command.name });
  },
});

/** A board as the list shows it. */
export interface BoardSummary {
  /** Its id in URLs (`#/b/<id>`); the stream is `board:<id>`. */
  id: string;
  /** Its name, once its `board.created` event is known. */
  name?: string;
  /** How many cards it holds. */
  cards: number;
}

export interface BoardListState {
  /** By stream. */
  boards: Record<string, BoardSummary>;
}

/** The state with one board changed (added when new). */
function withBoard(
  state: BoardListState,
  stream: string,
  change: (board: BoardSummary) => BoardSummary,
): BoardListState {
  const board = state.boards[stream] ?? { id: stream.slice(BOARD_PREFIX.length), cards: 0 };
  return { boards: { ...state.boards, [stream]: change(board) } };
}

/** Every board of every `board:` stream this device holds, with its name and card count. */
export const boardList = defineProjection({
  name: "board-list",
  prefix: BOARD_PREFIX,
  events: [boardCreated, cardAdded, cardRemoved],
  initialState: { boards: {} } as BoardListState,
  handlers: {
    "board.created": (state, event) =>
      withBoard(state, event.stream, (board) => ({ ...board, name: event.data.name })),
    "card.added": (state, event) =>
      withBoard(state, event.stream, (board) => ({ ...board, cards: board.cards + 1 })),
    "card.removed": (state, event) =>
      withBoard(state, event.stream, (board) => ({ ...board, cards: board.cards - 1 })),
  },
});

/** The boards to list: the default board first, then the others by name. */
export function listedBoards(state: BoardListState | undefined): BoardSummary[] {
  const boards = Object.values(state?.boards ?? {});
  const first = boards.find((board) => board.id === DEFAULT_BOARD) ?? {
    id: DEFAULT_BOARD,
    cards: 0,
  };
  const others = boards
    .filter((board) => board.id !== DEFAULT_BOARD)
    .sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id) || a.id.localeCompare(b.id));
  return [{ ...first, name: first.name ?? DEFAULT_BOARD_NAME }, ...others];
}

/**
 * The label of a command's undo step, as the Undo / Redo buttons show it (the worker's
 * `undo.labelOf`): the board commands', the cards' and the description field's.
 */
export function demoUndoLabel(
  command: BoardInfoCommand | BoardCommand | TextEditData,
): string | undefined {
  if ("type" in command && command.type === "createBoard") return `Create “${command.name}”`;
  return undoLabel(command);
}

// internal: not exported. A cross-stream projection over the board fixture: the list of boards
// with their card counts (every stream whose id starts with "board:").
import { defineProjection } from "@chronicle/core";
import { cardAdded, cardRemoved } from "./board.ts";

export type BoardList = Record<string, { cards: number }>;

export const boardList = defineProjection({
  name: "board-list",
  prefix: "board:",
  events: [cardAdded, cardRemoved],
  initialState: {} as BoardList,
  handlers: {
    "card.added": (state, { stream }) => ({
      ...state,
      [stream]: { cards: (state[stream]?.cards ?? 0) + 1 },
    }),
    "card.removed": (state, { stream }) => ({
      ...state,
      [stream]: { cards: (state[stream]?.cards ?? 1) - 1 },
    }),
  },
});

// internal: not exported. The board app with the list of boards (a cross-stream projection), for
// the browser tests.
import { hostChronicle } from "../worker/host.ts";
import { board, boardView, cardAdded, cardRemoved } from "./board.ts";
import { boardList } from "./board-list.ts";

hostChronicle({
  name: "board-list-tests",
  events: [cardAdded, cardRemoved],
  deciders: [board],
  projections: [boardView, boardList],
  actor: "tester",
});

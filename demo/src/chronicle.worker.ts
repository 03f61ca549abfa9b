// The demo's worker: the local log in IndexedDB. Each "device" (`?device=` in the page URL) has
// its own database, so two windows can act as two devices on one machine.
import { hostChronicle } from "@chronicle/browser/worker";
import { board, boardView } from "./board.ts";

hostChronicle({
  name: "chronicle-demo",
  deciders: [board],
  projections: [boardView],
  actor: "demo",
});

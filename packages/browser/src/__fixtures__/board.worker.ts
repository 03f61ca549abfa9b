// internal: not exported. The worker module of the browser tests: hosts the board app. When the
// page asks (`{ probe: "arm" }`), it reports the first projection handler call of a command, so
// a test can terminate it in the middle of the command's transaction.
import { hostChronicle } from "../worker/host.ts";
import { board, boardView, cardAdded, cardRemoved, probes } from "./board.ts";

hostChronicle({
  name: "board-tests",
  events: [cardAdded, cardRemoved],
  deciders: [board],
  projections: [boardView],
  actor: "tester",
  undo: { captureWindowMs: 0 },
});

globalThis.addEventListener("message", (message: MessageEvent) => {
  if (message.data?.probe !== "arm") return;
  probes.onProject = () => {
    probes.onProject = undefined;
    globalThis.postMessage({ probe: "projecting" });
  };
});

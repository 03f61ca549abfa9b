import { hostChronicle } from "@chronicle/browser/worker";
import { todoList, todos } from "./todos.ts";

hostChronicle({
  name: "consumer-todos",
  deciders: [todos],
  projections: [todoList],
  // Save each undo step at once: the test reloads within milliseconds of a click, inside the
  // default's 250 ms window that coalesces a burst of commands into one write.
  undo: { saveDelayMs: 0, captureWindowMs: 0 },
});

// internal: not exported. The process the process benchmark runs (bench/processes.browser.bench.ts):
// one process type over the tally's events, 1,000 instances (an event's instance is its number
// modulo 1,000), a handler as cheap as the tally view's fold, so the figure is the host's cost
// per handled event against a plain projection's.
import { defineProcess } from "@chronicle/core/process";
import { itemAdded } from "./tally.ts";

/** Instances the benchmark's events spread over. */
export const processInstances = 1000;

/** The instance of an item id `<prefix><n>` (n its number in the batch); `end` is its own. */
export function instanceOf(id: string): string {
  if (id === "end") return "end";
  const digits = /(\d+)-(\d+)$/.exec(id);
  if (!digits) return "other";
  return String((Number(digits[1]) * 100 + Number(digits[2])) % processInstances);
}

export const tallyProcess = defineProcess({
  name: "tally-process",
  events: [itemAdded],
  correlate: (event) => instanceOf(event.data.id),
  initialState: { handled: 0, titleChars: 0 },
  on: {
    "item.added": (state, { data }) => ({
      state: { handled: state.handled + 1, titleChars: state.titleChars + data.title.length },
    }),
  },
});

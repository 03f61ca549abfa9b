// A card's due-date reminder as a process: one instance per card with a due date, which
// schedules a timeout at the due date and, when it fires, marks the reminder due. Every device
// runs its own instances (the leader tab's worker, over the events it has confirmed), like a
// notification each device shows: it writes no event, so two devices online at the due time
// do not both write one. The devtools' Processes tab lists the instances with their deadlines.
import { defineProcess } from "@chronicle/core/process";
import { cardDueSet } from "./board.ts";

/** An instance's state: which card, when it is due, and whether its timeout has fired. */
export interface CardReminder {
  stream: string;
  card: string;
  /** `null` once the due date was cleared. */
  dueAt: number | null;
  /** The due date has passed: the card shows the reminder. */
  due: boolean;
}

export const cardReminder = defineProcess({
  name: "card-reminder",
  events: [cardDueSet],
  correlate: (event) => `${event.stream}/${event.data.id}`,
  initialState: { stream: "", card: "", dueAt: null, due: false } as CardReminder,
  on: {
    // A new due date replaces the pending timeout (scheduling a name again does); none cancels it.
    "card.due-set": (_state, event) => {
      const state = {
        stream: event.stream,
        card: event.data.id,
        dueAt: event.data.dueAt,
        due: false,
      };
      return event.data.dueAt === null
        ? { state, cancel: ["due"] }
        : { state, schedule: [{ name: "due", at: event.data.dueAt }] };
    },
  },
  timeouts: {
    due: (state) => ({ state: { ...state, due: true } }),
  },
});

// The app's domain, written the way the README shows: events, a decider, a projection.
import { ChronicleError, defineDecider, defineEvent, defineProjection } from "@chronicle/core";
import { z } from "zod";

export const todoAdded = defineEvent({
  type: "todo.added",
  schema: z.object({ id: z.string(), title: z.string().min(1) }),
  invert: ({ data }) => ({ type: "todo.removed", data: { id: data.id } }),
});

export const todoRemoved = defineEvent({
  type: "todo.removed",
  schema: z.object({ id: z.string() }),
});

export type TodoCommand = { add: string } | { remove: string };

export const todos = defineDecider({
  name: "todos",
  events: [todoAdded, todoRemoved],
  initialState: { ids: [] as string[] },
  evolve: (state, event) =>
    event.type === "todo.added"
      ? { ids: [...state.ids, event.data.id] }
      : { ids: state.ids.filter((id) => id !== event.data.id) },
  decide: (command: TodoCommand, state) => {
    if ("add" in command) return todoAdded.create({ id: crypto.randomUUID(), title: command.add });
    if (!state.ids.includes(command.remove)) {
      throw new ChronicleError("not-found", `no todo ${command.remove}`);
    }
    return todoRemoved.create({ id: command.remove });
  },
});

export const todoList = defineProjection({
  name: "todo-list",
  events: [todoAdded, todoRemoved],
  initialState: { items: [] as { id: string; title: string }[] },
  handlers: {
    "todo.added": (state, event) => ({ items: [...state.items, event.data] }),
    "todo.removed": (state, event) => ({
      items: state.items.filter((item) => item.id !== event.data.id),
    }),
  },
});

// Plain Node, no loader, no TypeScript: @chronicle/core from its tarball.
import {
  createCommandHandler,
  createProjectionRunner,
  defineDecider,
  defineEvent,
  defineProjection,
  MemoryEventStore,
} from "@chronicle/core";
import { z } from "zod";

const todoAdded = defineEvent({
  type: "todo.added",
  schema: z.object({ id: z.string(), title: z.string().min(1) }),
});
const todos = defineDecider({
  name: "todos",
  events: [todoAdded],
  initialState: { count: 0 },
  evolve: (state) => ({ count: state.count + 1 }),
  decide: (command) => todoAdded.create({ id: `t${command.n}`, title: command.title }),
});
const titles = defineProjection({
  name: "titles",
  events: [todoAdded],
  initialState: [],
  handlers: { "todo.added": (state, event) => [...state, event.data.title] },
});

const store = new MemoryEventStore();
const handle = createCommandHandler(store, todos, { context: { actor: "script", device: "node" } });
await handle("todos:1", { n: 1, title: "Write docs" });
await handle("todos:1", { n: 2, title: "Ship it" });
try {
  await handle("todos:1", { n: 3, title: "" });
} catch (error) {
  console.log(`refused: ${error.code}`);
}
console.log(JSON.stringify(await createProjectionRunner({ store }).read(titles, "todos:1")));

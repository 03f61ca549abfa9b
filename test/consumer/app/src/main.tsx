import { createChronicle } from "@chronicle/browser";
import { ChronicleProvider, useCommand, useProjection, useUndo } from "@chronicle/react";
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { todoList, todos } from "./todos.ts";

const STREAM = "todos:mine";

function App() {
  const list = useProjection(todoList, STREAM);
  const command = useCommand(todos);
  const { canUndo, undoLabel, undo } = useUndo();
  const [title, setTitle] = useState("");
  return (
    <main>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void command.execute(STREAM, { add: title }).then(() => setTitle(""));
        }}
      >
        <input aria-label="Title" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      {command.error && <p role="alert">{command.error.message}</p>}
      <button type="button" disabled={!canUndo} onClick={() => void undo()}>
        Undo {undoLabel ?? ""}
      </button>
      <ul aria-label="Todos" data-ready={list ? "yes" : "no"}>
        {list?.items.map((item) => (
          <li key={item.id}>{item.title}</li>
        ))}
      </ul>
    </main>
  );
}

const worker = new Worker(new URL("./chronicle.worker.ts", import.meta.url), { type: "module" });
createChronicle({ worker }).then(
  async (chronicle) => {
    await chronicle.load(todoList, STREAM);
    createRoot(document.getElementById("root")!).render(
      <ChronicleProvider chronicle={chronicle}>
        <App />
      </ChronicleProvider>,
    );
  },
  (error: unknown) => {
    document.body.textContent = `Chronicle failed to start: ${String(error)}`;
  },
);

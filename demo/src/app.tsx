import { useCommand, useHistory, useProjection } from "@chronicle/react";
import { useState } from "react";
import { board, boardView, type Column, columns, STREAM } from "./board.ts";
import { OfflineSwitch, SyncBadge } from "./sync-badge.tsx";
import { TimeTravelBar, useTimeTravel } from "./time-travel.tsx";

const labels: Record<Column, string> = { todo: "To do", doing: "Doing", done: "Done" };

/** The board: columns of cards, a form to add one, and the event log a developer can read. */
export function App(props: { device: string; user: string }) {
  const state = useProjection(boardView, STREAM);
  const command = useCommand(board);
  const history = useHistory(STREAM, { version: state });
  const [title, setTitle] = useState("");
  const travel = useTimeTravel(STREAM, state);
  const live = travel.past === undefined;
  const cards = Object.entries((live ? state : travel.past)?.cards ?? {});

  const add = async (event: React.FormEvent) => {
    event.preventDefault();
    const done = await command.execute(STREAM, { type: "addCard", id: crypto.randomUUID(), title });
    if (done) setTitle("");
  };
  const openSecondDevice = () => {
    const next = String(Number(props.device) + 1);
    window.open(`${location.pathname}?device=${next}`, `device-${next}`, "width=1100,height=800");
  };

  return (
    <main>
      <header>
        <h1>Chronicle board</h1>
        <span className="who">
          device {props.device} · {props.user}
        </span>
        <OfflineSwitch device={`device-${props.device}`} />
        <SyncBadge stream={STREAM} />
        <button type="button" onClick={openSecondDevice}>
          Open a second device
        </button>
      </header>
      <form onSubmit={add}>
        <input
          aria-label="New card title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          placeholder="New card"
        />
        <button type="submit" disabled={command.running}>
          Add card
        </button>
        {command.error && <span role="alert">{command.error.message}</span>}
      </form>
      <TimeTravelBar
        head={travel.head}
        at={travel.at}
        event={travel.event}
        live={live}
        onChange={travel.setPosition}
      />
      <section className={`columns ${live ? "" : "readonly"}`}>
        {columns.map((column) => (
          <div key={column} className="column" data-column={column}>
            <h2>{labels[column]}</h2>
            {cards
              .filter(([, card]) => card.column === column)
              .map(([id, card]) => (
                <article key={id} className="card" data-card={card.title}>
                  <p>{card.title}</p>
                  {live && (
                    <div className="actions">
                      {columns
                        .filter((to) => to !== column)
                        .map((to) => (
                          <button
                            key={to}
                            type="button"
                            onClick={() => command.execute(STREAM, { type: "moveCard", id, to })}
                          >
                            → {labels[to]}
                          </button>
                        ))}
                      <button
                        type="button"
                        onClick={() => command.execute(STREAM, { type: "removeCard", id })}
                      >
                        Delete
                      </button>
                    </div>
                  )}
                </article>
              ))}
          </div>
        ))}
      </section>
      <section className="log">
        <h2>Event log</h2>
        <ol>
          {history.map((entry) => (
            <li key={entry.id}>
              <code>#{entry.position}</code> {entry.type} <em>by {entry.actor}</em>{" "}
              <time>{new Date(entry.recordedAt).toLocaleTimeString()}</time>
            </li>
          ))}
        </ol>
      </section>
    </main>
  );
}

import type { HistoryEntry } from "@chronicle/core";
import { useCommand, useHistory, useProjection } from "@chronicle/react";
import { useMemo, useState } from "react";
import { board, boardView, columns, labels, STREAM } from "./board.ts";
import { CardView } from "./card-view.tsx";
import { description, descriptionView } from "./description.ts";
import { OfflineSwitch, SyncBadge } from "./sync-badge.tsx";
import { TimeTravelBar, useTimeTravel } from "./time-travel.tsx";
import { UndoBar } from "./undo-bar.tsx";

/** The board: columns of cards, a form to add one, and the event log a developer can read. */
export function App(props: { device: string; user: string }) {
  const state = useProjection(boardView, STREAM);
  const liveDescriptions = useProjection(descriptionView, STREAM);
  // "The stream grew": description edits leave the board's state as it was.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the states are the change signal
  const version = useMemo(() => ({}), [state, liveDescriptions]);
  const command = useCommand(board);
  const history = useHistory(STREAM, { version });
  const [title, setTitle] = useState("");
  const travel = useTimeTravel(STREAM, version);
  const { live } = travel;
  const cards = Object.entries((travel.past?.board ?? state)?.cards ?? {});
  const descriptions = travel.past?.descriptions ?? liveDescriptions;
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setExpanded((open) => {
      const next = new Set(open);
      if (!next.delete(id)) next.add(id);
      return next;
    });

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
        <UndoBar />
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
                <CardView
                  key={id}
                  id={id}
                  card={card}
                  description={descriptions ? description.read(descriptions, id) : ""}
                  live={live}
                  expanded={expanded.has(id)}
                  onToggle={() => toggle(id)}
                  onMove={(to) => command.execute(STREAM, { type: "moveCard", id, to })}
                  onRename={(title) => command.execute(STREAM, { type: "renameCard", id, title })}
                  onRemove={() => command.execute(STREAM, { type: "removeCard", id })}
                />
              ))}
          </div>
        ))}
      </section>
      <section className="log">
        <h2>Event log</h2>
        <ol>
          {groupTyping(history).map(({ first, last, count }) => (
            <li key={first.id}>
              <code>
                #{first.position}
                {count > 1 ? `–#${last.position}` : ""}
              </code>{" "}
              {first.type}
              {count > 1 ? ` ×${count}` : ""} <em>by {first.actor}</em>{" "}
              <time>{new Date(last.recordedAt).toLocaleTimeString()}</time>
              {first.undoOf && <span className="tag">undo</span>}
              {first.redoOf && <span className="tag">redo</span>}
              {last.pending && <span className="tag pending">pending</span>}
            </li>
          ))}
        </ol>
      </section>
    </main>
  );
}

/** A run of edits of one card's description by one actor is one log line (a word is many edits). */
function groupTyping(entries: HistoryEntry[]) {
  const groups: { first: HistoryEntry; last: HistoryEntry; count: number }[] = [];
  for (const entry of entries) {
    const group = groups.at(-1);
    if (
      group &&
      entry.type === description.event.type &&
      group.first.type === entry.type &&
      group.first.actor === entry.actor &&
      keyOf(group.first) === keyOf(entry)
    ) {
      group.last = entry;
      group.count++;
    } else groups.push({ first: entry, last: entry, count: 1 });
  }
  return groups;
}

/** The card id of a description edit (its data is `{ key, update }`). */
const keyOf = ({ data }: HistoryEntry) =>
  typeof data === "object" && data !== null && "key" in data ? data.key : undefined;

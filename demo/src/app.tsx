import { useCommand, useHistory, useProjection } from "@chronicle/react";
import { ChronicleDevtools } from "@chronicle/react/devtools";
import { memo, useCallback, useMemo, useState } from "react";
import { board, boardView, type Card, type Column, columns } from "./board.ts";
import { BoardNav } from "./board-nav.tsx";
import { useAnnounceOpenBoard, useBoardRoute } from "./board-route.ts";
import { boardStream } from "./boards.ts";
import { CardColumn } from "./card-column.tsx";
import { CardView } from "./card-view.tsx";
import { description, descriptionView } from "./description.ts";
import { EventLog } from "./event-log.tsx";
import { OneFieldForm } from "./one-field-form.tsx";
import { OfflineSwitch, SyncBadge } from "./sync-badge.tsx";
import { TimeTravelBar, useTimeTravel } from "./time-travel.tsx";
import { UndoBar } from "./undo-bar.tsx";
import { useDueReminders } from "./use-due-reminders.ts";

/** What the devtools' time travel previews. */
const inspected = [boardView, descriptionView];

/** How many of the newest events the log lists. */
const logWindow = 300;

/**
 * The page: who and where, undo, the offline switch and the open board's sync status, the board
 * list, and the board the URL names (`#/b/<id>`; the default board without one).
 */
export function App(props: { device: string; user: string }) {
  const id = useBoardRoute();
  const stream = boardStream(id);
  useAnnounceOpenBoard(`device-${props.device}`, stream);
  const [devtools, setDevtools] = useState(false);
  const openSecondDevice = () => {
    const next = String(Number(props.device) + 1);
    window.open(
      `${location.pathname}?device=${next}${location.hash}`,
      `device-${next}`,
      "width=1100,height=800",
    );
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
        <SyncBadge stream={stream} />
        <button type="button" onClick={openSecondDevice}>
          Open a second device
        </button>
        <button type="button" aria-pressed={devtools} onClick={() => setDevtools(!devtools)}>
          Devtools
        </button>
      </header>
      <BoardNav current={id} />
      {/* A board of its own per stream: its expanded cards and time-travel position stay behind. */}
      <Board key={stream} stream={stream} devtools={devtools} />
    </main>
  );
}

/** A board: columns of cards, a form to add one, and the event log a developer can read. */
function Board(props: { stream: string; devtools: boolean }) {
  const { stream } = props;
  const state = useProjection(boardView, stream);
  const liveDescriptions = useProjection(descriptionView, stream);
  // "The stream grew": description edits leave the board's state as it was.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the states are the change signal
  const version = useMemo(() => ({}), [state, liveDescriptions]);
  const command = useCommand(board);
  const travel = useTimeTravel(stream, version);
  // The log shows the newest events (older ones are a slider move away): reading the whole
  // history again after every change would keep the worker busy on a long-lived board.
  const history = useHistory(stream, { version, from: Math.max(1, travel.head - logWindow + 1) });
  const { live } = travel;
  const shown = (travel.past?.board ?? state)?.cards;
  // Each column's cards, newest first (a card keeps its place when it moves: the board's order
  // is the order cards were added in).
  const byColumn = useMemo(() => {
    const lists: Record<Column, [string, Card][]> = { todo: [], doing: [], done: [] };
    for (const entry of Object.entries(shown ?? {})) lists[entry[1].column].push(entry);
    for (const column of columns) lists[column].reverse();
    return lists;
  }, [shown]);
  const descriptions = travel.past?.descriptions ?? liveDescriptions;
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  // Stable handlers taking the card's id, so a card re-renders only when its own data changes.
  const toggle = useCallback(
    (id: string) =>
      setExpanded((open) => {
        const next = new Set(open);
        if (!next.delete(id)) next.add(id);
        return next;
      }),
    [],
  );
  const { execute } = command;
  const move = useCallback(
    (id: string, to: Column) => execute(stream, { type: "moveCard", id, to }),
    [execute, stream],
  );
  const rename = useCallback(
    (id: string, title: string) => execute(stream, { type: "renameCard", id, title }),
    [execute, stream],
  );
  const remove = useCallback(
    (id: string) => execute(stream, { type: "removeCard", id }),
    [execute, stream],
  );
  const setDue = useCallback(
    (id: string, dueAt: number | null) => execute(stream, { type: "setDue", id, dueAt }),
    [execute, stream],
  );
  const reminders = useDueReminders(stream);

  return (
    <>
      <AddCard stream={stream} />
      {/* A refused move, rename, removal or due date (adding says its own, beside its form). */}
      {command.error && (
        <p role="alert" className="refused">
          {command.error.message}
        </p>
      )}
      <TimeTravelBar
        head={travel.head}
        at={travel.at}
        event={travel.event}
        live={live}
        onChange={travel.setPosition}
      />
      <section className={`columns ${live ? "" : "readonly"}`}>
        {columns.map((column) => (
          <CardColumn
            key={column}
            column={column}
            cards={byColumn[column]}
            renderCard={(id, card) => (
              <CardView
                stream={stream}
                id={id}
                card={card}
                description={descriptions ? description.read(descriptions, id) : ""}
                live={live}
                expanded={expanded.has(id)}
                reminderDue={reminders.has(id)}
                onToggle={toggle}
                onMove={move}
                onRename={rename}
                onRemove={remove}
                onDue={setDue}
              />
            )}
          />
        ))}
      </section>
      {props.devtools && <ChronicleDevtools stream={stream} projections={inspected} />}
      <EventLog history={history} />
    </>
  );
}

/**
 * The form that adds a card. Its own component: typing a title and the command's progress
 * re-render the form, not the board.
 */
const AddCard = memo(function AddCard(props: { stream: string }) {
  const command = useCommand(board);
  const add = async (title: string) =>
    (await command.execute(props.stream, { type: "addCard", id: crypto.randomUUID(), title })) !==
    undefined;
  return (
    <OneFieldForm
      label="New card title"
      placeholder="New card"
      button="Add card"
      running={command.running}
      error={command.error}
      submit={add}
    />
  );
});

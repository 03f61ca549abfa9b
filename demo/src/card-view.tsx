import { memo, useState } from "react";
import { type Card, type Column, columns, labels } from "./board.ts";
import { DescriptionEditor } from "./description-editor.tsx";

interface CardViewProps {
  /** The board's stream (a card view never moves to another board). */
  stream: string;
  id: string;
  card: Card;
  /** The description's text (from the projection, or from the past when time travelling). */
  description: string;
  /** False while time travelling: the card is read-only. */
  live: boolean;
  expanded: boolean;
  /** The card's due-date reminder has fired (its `card-reminder` process instance). */
  reminderDue: boolean;
  onToggle: (id: string) => void;
  onMove: (id: string, to: Column) => void;
  onRename: (id: string, title: string) => void;
  onRemove: (id: string) => void;
  onDue: (id: string, dueAt: number | null) => void;
}

/**
 * One card: its title, its description (a preview; the collaborative editor while expanded)
 * and, on the live board, buttons to move or delete it.
 */
export const CardView = memo(function CardView(props: CardViewProps) {
  const { id, card, live } = props;
  const editing = live && props.expanded;
  const [renaming, setRenaming] = useState<string | undefined>(undefined);
  return (
    <article className="card" data-card={card.title}>
      {live && renaming !== undefined ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            props.onRename(id, renaming);
            setRenaming(undefined);
          }}
        >
          <input
            aria-label={`New title of ${card.title}`}
            value={renaming}
            onChange={(event) => setRenaming(event.target.value)}
            onKeyDown={(event) => event.key === "Escape" && setRenaming(undefined)}
          />
        </form>
      ) : (
        <p>{card.title}</p>
      )}
      {card.dueAt !== undefined && (
        <p className="due" data-due={props.reminderDue ? "now" : "later"}>
          {props.reminderDue ? "Reminder: due since" : "Due"}{" "}
          {new Date(card.dueAt).toLocaleString()}
        </p>
      )}
      {editing && (
        <label className="due-input">
          Due{" "}
          <input
            type="datetime-local"
            step={1}
            aria-label={`Due date of ${card.title}`}
            value={card.dueAt === undefined ? "" : localInputValue(card.dueAt)}
            onChange={(event) =>
              props.onDue(id, event.target.value ? new Date(event.target.value).getTime() : null)
            }
          />
        </label>
      )}
      {editing ? (
        <DescriptionEditor stream={props.stream} id={id} title={card.title} />
      ) : (
        props.description && <p className="description">{props.description}</p>
      )}
      {live && (
        <div className="actions">
          {columns
            .filter((to) => to !== card.column)
            .map((to) => (
              <button key={to} type="button" onClick={() => props.onMove(id, to)}>
                → {labels[to]}
              </button>
            ))}
          <button type="button" onClick={() => setRenaming(card.title)}>
            Rename
          </button>
          <button type="button" aria-expanded={props.expanded} onClick={() => props.onToggle(id)}>
            Description
          </button>
          <button type="button" onClick={() => props.onRemove(id)}>
            Delete
          </button>
        </div>
      )}
    </article>
  );
}, sameCard);

/**
 * Whether a card shows the same: every state from the worker is a fresh copy (it crosses a
 * MessagePort), so cards are compared by value, not by identity.
 */
function sameCard(a: CardViewProps, b: CardViewProps): boolean {
  return (
    a.stream === b.stream &&
    a.id === b.id &&
    a.card.title === b.card.title &&
    a.card.column === b.card.column &&
    a.card.dueAt === b.card.dueAt &&
    a.reminderDue === b.reminderDue &&
    a.description === b.description &&
    a.live === b.live &&
    a.expanded === b.expanded &&
    a.onToggle === b.onToggle &&
    a.onMove === b.onMove &&
    a.onRename === b.onRename &&
    a.onRemove === b.onRemove &&
    a.onDue === b.onDue
  );
}

/** A time as a `datetime-local` input shows it: local time, to the second. */
function localInputValue(time: number): string {
  const local = new Date(time - new Date(time).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

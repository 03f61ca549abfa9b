import { useState } from "react";
import { type Card, type Column, columns, labels } from "./board.ts";
import { DescriptionEditor } from "./description-editor.tsx";

/**
 * One card: its title, its description (a preview; the collaborative editor while expanded)
 * and, on the live board, buttons to move or delete it.
 */
export function CardView(props: {
  id: string;
  card: Card;
  /** The description's text (from the projection, or from the past when time travelling). */
  description: string;
  /** False while time travelling: the card is read-only. */
  live: boolean;
  expanded: boolean;
  onToggle: () => void;
  onMove: (to: Column) => void;
  onRename: (title: string) => void;
  onRemove: () => void;
}) {
  const { id, card, live } = props;
  const editing = live && props.expanded;
  const [renaming, setRenaming] = useState<string | undefined>(undefined);
  return (
    <article className="card" data-card={card.title}>
      {live && renaming !== undefined ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            props.onRename(renaming);
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
      {editing ? (
        <DescriptionEditor id={id} title={card.title} />
      ) : (
        props.description && <p className="description">{props.description}</p>
      )}
      {live && (
        <div className="actions">
          {columns
            .filter((to) => to !== card.column)
            .map((to) => (
              <button key={to} type="button" onClick={() => props.onMove(to)}>
                → {labels[to]}
              </button>
            ))}
          <button type="button" onClick={() => setRenaming(card.title)}>
            Rename
          </button>
          <button type="button" aria-expanded={props.expanded} onClick={props.onToggle}>
            Description
          </button>
          <button type="button" onClick={props.onRemove}>
            Delete
          </button>
        </div>
      )}
    </article>
  );
}

import type { HistoryEntry } from "@chronicle/core";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useMemo, useRef } from "react";
import { description } from "./description.ts";

/**
 * The stream's events, newest first, for a developer to read: a run of one person's typing into
 * one description is one line. Virtualised: only the lines in view are in the DOM, so a board
 * with thousands of events renders as fast as one with ten.
 */
export const EventLog = memo(function EventLog(props: { history: HistoryEntry[] }) {
  const lines = useMemo(() => groupTyping(props.history).reverse(), [props.history]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 22,
    overscan: 12,
    getItemKey: (index) => lines[index]?.first.id ?? index,
  });
  return (
    <section className="log">
      <h2>Event log</h2>
      <div ref={scroller} className="scroller">
        <ol style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((item) => {
            const { first, last, count } = lines[item.index]!;
            return (
              <li
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                style={{
                  position: "absolute",
                  top: 0,
                  width: "100%",
                  translate: `0 ${item.start}px`,
                }}
              >
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
            );
          })}
        </ol>
      </div>
    </section>
  );
});

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

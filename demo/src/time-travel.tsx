import { type ConfirmedEvent, foldEvents, initialStateOf } from "@chronicle/core";
import type { TextFieldsState } from "@chronicle/core/text";
import { useChronicle } from "@chronicle/react";
import { useEffect, useMemo, useState } from "react";
import { type BoardState, boardView } from "./board.ts";
import { descriptionView } from "./description.ts";

/**
 * A slider over the board's history: at the head it shows the live board; moved back, it shows
 * the board and the card descriptions as they were after event #N (folded from the log,
 * read-only) with who did what.
 */
export function useTimeTravel(stream: string, version: unknown) {
  const chronicle = useChronicle();
  const [events, setEvents] = useState<ConfirmedEvent[]>([]);
  const [position, setPosition] = useState<number | undefined>(undefined); // undefined = live
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` says the log grew
  useEffect(() => {
    let current = true;
    void chronicle.readStream(stream).then((log) => {
      if (current) setEvents(log);
    });
    return () => {
      current = false;
    };
  }, [chronicle, stream, version]);
  const head = events.length;
  const at = position === undefined ? head : Math.min(position, head);
  const past = useMemo(() => {
    if (position === undefined) return undefined;
    const prefix = events.slice(0, at);
    return {
      board: foldEvents(boardView, initialStateOf(boardView), prefix) as BoardState,
      descriptions: foldEvents(
        descriptionView,
        initialStateOf(descriptionView),
        prefix,
      ) as TextFieldsState,
    };
  }, [events, at, position]);
  return { head, at, past, event: events[at - 1], setPosition };
}

export function TimeTravelBar(props: {
  head: number;
  at: number;
  event: ConfirmedEvent | undefined;
  live: boolean;
  onChange: (position: number | undefined) => void;
}) {
  return (
    <section className={`time-travel ${props.live ? "" : "past"}`}>
      <label>
        History
        <input
          type="range"
          aria-label="Time travel"
          min={0}
          max={props.head}
          value={props.at}
          onChange={(e) => {
            const value = Number(e.target.value);
            props.onChange(value >= props.head ? undefined : value);
          }}
        />
      </label>
      <span>
        {props.live
          ? "live"
          : props.event
            ? `as of #${props.at}: ${props.event.type} by ${props.event.meta.actor} at ${new Date(props.event.recordedAt).toLocaleTimeString()}`
            : "before the first event"}
      </span>
      {!props.live && (
        <button type="button" onClick={() => props.onChange(undefined)}>
          Back to live
        </button>
      )}
    </section>
  );
}

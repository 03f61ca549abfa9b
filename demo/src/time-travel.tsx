import type { ConfirmedEvent } from "@chronicle/core";
import type { TextFieldsState } from "@chronicle/core/text";
import { useChronicle } from "@chronicle/react";
import { useEffect, useState } from "react";
import { type BoardState, boardView } from "./board.ts";
import { descriptionView } from "./description.ts";

interface Past {
  position: number;
  board: BoardState;
  descriptions: TextFieldsState;
  /** The event at that position (who did what, when). */
  event: ConfirmedEvent | undefined;
}

/**
 * A slider over the board's confirmed history: at the head it shows the live board; moved back,
 * it shows the board and the card descriptions as they were after event #N, read-only, with who
 * did what. The past is computed in the worker (`chronicle.viewAt`), from the nearest snapshot.
 */
export function useTimeTravel(stream: string, version: unknown) {
  const chronicle = useChronicle();
  const [head, setHead] = useState(0);
  const [position, setPosition] = useState<number | undefined>(undefined); // undefined = live
  const [past, setPast] = useState<Past | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` says the log grew
  useEffect(() => {
    let current = true;
    void chronicle.readStream(stream, { direction: "backward", limit: 1 }).then(([last]) => {
      if (current) setHead(last?.position ?? 0);
    });
    return () => {
      current = false;
    };
  }, [chronicle, stream, version]);
  useEffect(() => {
    if (position === undefined) return setPast(undefined);
    let current = true;
    void (async () => {
      const view = await chronicle.viewAt(stream, { position });
      const [board, descriptions, events] = await Promise.all([
        view.read(boardView),
        view.read(descriptionView),
        view.position > 0 ? view.events({ from: view.position, limit: 1 }) : [],
      ]);
      if (current) setPast({ position: view.position, board, descriptions, event: events[0] });
    })();
    return () => {
      current = false;
    };
  }, [chronicle, stream, position]);
  const live = position === undefined;
  return {
    head,
    live,
    at: live ? head : Math.min(position, head),
    /** The past being shown (the previous one while the next loads), or undefined when live. */
    past: live ? undefined : past,
    event: live ? undefined : past?.event,
    setPosition,
  };
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

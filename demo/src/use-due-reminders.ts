import { useChronicle } from "@chronicle/react";
import { useEffect, useState } from "react";
import { type CardReminder, cardReminder } from "./card-reminder.ts";

const none: ReadonlySet<string> = new Set();

/**
 * The ids of a board's cards whose reminder is due: the `card-reminder` process instances
 * (`chronicle.processes`), read again whenever the process store changes in any tab.
 */
export function useDueReminders(stream: string): ReadonlySet<string> {
  const chronicle = useChronicle();
  const [due, setDue] = useState(none);
  useEffect(() => {
    let current = true;
    const read = async () => {
      const instances = await chronicle.processes.list({ process: cardReminder.name });
      if (!current) return;
      const cards = instances
        .map((instance) => instance.state as CardReminder)
        .filter((reminder) => reminder.stream === stream && reminder.due)
        .map((reminder) => reminder.card);
      // The same set keeps its identity, so cards re-render only when theirs changed.
      setDue((previous) =>
        previous.size === cards.length && cards.every((card) => previous.has(card))
          ? previous
          : new Set(cards),
      );
    };
    const unsubscribe = chronicle.processes.onChange(() => void read());
    void read();
    return () => {
      current = false;
      unsubscribe();
    };
  }, [chronicle, stream]);
  return due;
}

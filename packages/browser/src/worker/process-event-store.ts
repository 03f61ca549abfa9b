// internal: not exported. The EventStore the leader's process runner sees (docs/architecture.md,
// "Processes", "In the browser"):
// - reads (`readAll`, `subscribe`, `lastCheckpoint`) are the database's confirmed log in local
//   commit order (`seq`): without sync every event the app wrote; with sync what arrived
//   confirmed (the app's own events once the node acknowledged them, and other devices' events);
// - `readStream` is what a command is decided on: without sync the stream; with sync the
//   confirmed events followed by the pending ones, so a redelivered command finds its
//   deterministic ids even before the node confirmed them;
// - `append` is the engine's own local path: without sync one transaction with the projections
//   it moves (and the commit notice every tab hears); with sync pending rows with the ids given,
//   pushed by the leader's sync engine like the app's. A pending row keeps its id through every
//   rebase (only strict commands are decided again, and a process's rows carry no command), so
//   the node's idempotency by id holds for them too.
import {
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type ConfirmedEvent,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from "@chronicle/core";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import { appendPending } from "./optimistic.ts";

/** What {@link processEventStore} needs from the engine. */
export interface ProcessEventStoreDeps {
  /** The database's event store. */
  store: DexieEventStore;
  /** With sync: the local log commands write pending events to. */
  local: DexieLocalLog | undefined;
  /** Forgets the engine's cached decider states of a stream written outside a command. */
  forgetStream: (stream: string) => void;
}

/** The engine as an EventStore for the process runner. */
export function processEventStore(deps: ProcessEventStoreDeps): EventStore {
  const { store, local } = deps;
  const readStream = async (stream: string): Promise<ConfirmedEvent[]> => {
    const confirmed = await store.readStream(stream);
    if (!local) return confirmed;
    const pending = await local.readPending(stream);
    const head = confirmed.at(-1)?.position ?? (await local.confirmedHead(stream));
    // Provisional positions after the head, as `history` shows them.
    return [
      ...confirmed,
      ...pending.map(
        ({ event }, index): ConfirmedEvent => ({
          ...event,
          position: head + index + 1,
          recordedAt: event.meta.occurredAt,
        }),
      ),
    ];
  };
  return {
    readStream: (stream) => readStream(stream),
    readAll: (options) => store.readAll(options),
    lastCheckpoint: () => store.lastCheckpoint(),
    head: (stream) => store.head(stream),
    // The engine owns the database: closing the view closes nothing.
    close: async () => {},
    subscribe: (options, handler) => store.subscribe(options, handler),
    async append(
      stream: string,
      events: readonly NewEvent[],
      options: AppendOptions = {},
    ): Promise<AppendResult> {
      if (!local) {
        try {
          return await store.append(stream, events, options);
        } finally {
          // The next command's known state would be refused by the positions just taken.
          deps.forgetStream(stream);
        }
      }
      // With sync the node orders the events: only check that nothing was written to the
      // stream since the runner read it (an app command in between), as a local store would.
      const expected = options.expectedVersion ?? "any";
      if (expected !== "any") {
        const length = (await readStream(stream)).length;
        const wanted = expected === "no-stream" ? 0 : expected === "exists" ? -1 : expected;
        if ((wanted === -1 && length === 0) || (wanted !== -1 && wanted !== length)) {
          throw new ChronicleError(
            "concurrency",
            `stream ${stream} moved while a process command was decided on it`,
            { details: { stream, expected, actual: length } },
          );
        }
      }
      return appendPending(local, stream, events as RecordedEvent[], {});
    },
  };
}

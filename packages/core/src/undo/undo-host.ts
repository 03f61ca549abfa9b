import type { Decider } from "../decider/define-decider.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { initialStateOf } from "../fold/foldable.ts";
import { loadState } from "../fold/load-state.ts";
import type { SnapshotStore } from "../snapshot/snapshot-store.ts";
import type { EventStore } from "../store/types.ts";

/** Where an undo manager reads states and writes compensating events. */
export interface UndoHost {
  /** The decider's state just before `event`, or `undefined` when the event is not in the log. */
  stateBefore(decider: Decider, stream: string, event: RecordedEvent): Promise<unknown>;
  /** The decider's current state (optimistic, where the host has pending events). */
  currentState(decider: Decider, stream: string): Promise<unknown>;
  /** Appends the events atomically and returns them as recorded. */
  append(stream: string, events: readonly RecordedEvent[]): Promise<RecordedEvent[]>;
}

/**
 * An UndoHost over an EventStore (the log is the authority: every event has a position).
 *
 * @example
 * const undo = createUndoManager({ host: createStoreUndoHost(store), actor: "alice", device: "laptop", deciders: [board] });
 */
export function createStoreUndoHost(
  store: EventStore,
  options: { snapshots?: SnapshotStore } = {},
): UndoHost {
  return {
    async stateBefore(decider, stream, event) {
      let position = event.position;
      if (position === undefined) {
        const all = await store.readStream(stream);
        position = all.find((candidate) => candidate.id === event.id)?.position;
      } else {
        const [stored] = await store.readStream(stream, { from: position, limit: 1 });
        if (stored?.id !== event.id) return undefined;
      }
      if (position === undefined) return undefined;
      if (position === 1) return initialStateOf(decider);
      return (
        await loadState(store, decider, stream, {
          snapshots: options.snapshots,
          maxPosition: position - 1,
        })
      ).state;
    },
    async currentState(decider, stream) {
      return (await loadState(store, decider, stream, { snapshots: options.snapshots })).state;
    },
    async append(stream, events) {
      const { results } = await store.append(stream, events);
      return events.map((event, index) => ({
        ...event,
        position: results[index]!.position,
        recordedAt: results[index]!.recordedAt,
      }));
    },
  };
}

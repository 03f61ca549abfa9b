// internal: not exported. A command when this worker is the authority (no sync engine): load
// the decider's state (snapshot + tail), decide, and append, all in one transaction with the
// projection updates the events cause. The leader also saves the decider's snapshot in that
// transaction when one is due.
import {
  createEnvelope,
  type Decider,
  type EventContext,
  foldEvents,
  type SnapshotStore,
  snapshotIfDue,
} from "@chronicle/core";
import type { ExecuteResult } from "../shared/host-api.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { ProjectionUpdater } from "../store/projection-updater.ts";
import { allRequests } from "../store/storage-errors.ts";
import { type DeciderState, type DeciderStates, deciderTypes } from "./decider-states.ts";

export interface LocalExecuteDeps {
  store: DexieEventStore;
  updater: ProjectionUpdater;
  deciderStates: DeciderStates;
  /** Loads snapshots; saves them only when this context leads. */
  snapshots: SnapshotStore;
  now: (() => number) | undefined;
}

/** Runs one command against the local log; remembers the decider state once committed. */
export async function executeLocal(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  eventContext: EventContext,
): Promise<ExecuteResult> {
  const { store, updater, deciderStates, snapshots } = deps;
  let reached: DeciderState | undefined;
  const result = await store.transaction(async (): Promise<ExecuteResult> => {
    // Everything the command needs is read at once (IndexedDB pipelines the requests): where
    // the stream and the log end, and the projection records the events will move.
    const [position, records] = await allRequests([
      store.position(stream),
      updater.prefetch(stream, deciderTypes(decider)),
    ]);
    const loaded = await deciderStates.load(store, decider, stream, position, snapshots);
    const decided = decider.decide(command, loaded.state);
    if (decided.length === 0) {
      reached = loaded;
      return { events: [], head: loaded.position, projections: [] };
    }
    const envelopes = decided.map((event) =>
      createEnvelope(stream, decider.registry.validate(event), eventContext),
    );
    // The head was read in this transaction (the fold reached it), and the envelopes' ids
    // were just generated: the store needs to read neither again.
    const written = await store.write(stream, envelopes, {
      expectedVersion: loaded.position === 0 ? "no-stream" : loaded.position,
      knownHead: loaded.position,
      freshIds: true,
      knownTail: position.tail ?? null,
      prefetched: records,
    });
    const state = foldEvents(decider, loaded.state, written.events);
    const snapshotPosition = await snapshotIfDue(
      snapshots,
      decider,
      stream,
      state,
      written.head,
      loaded.snapshotPosition,
      deps.now,
    );
    reached = {
      state,
      position: written.head,
      snapshotPosition,
      lastId: written.events.at(-1)?.id,
    };
    return { events: written.events, head: written.head, projections: [...written.projections] };
  }, `execute ${decider.name} on ${stream}`);
  // Only after the commit: an aborted transaction must not leave its state in the cache.
  if (reached) deciderStates.remember(decider, stream, reached);
  return result;
}

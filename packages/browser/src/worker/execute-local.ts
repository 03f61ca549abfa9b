// internal: not exported. A command when this worker is the authority (no sync engine): load
// the decider's state (snapshot + tail), decide, and append, all in one transaction with the
// projection updates the events cause. The leader also saves the decider's snapshot in that
// transaction when one is due.
//
// Speculation. When this worker committed the stream's last command and has heard of no commit
// from another context since, it knows what the transaction would read (the stream head, the
// log tail, the decider state, the projection records). It then issues the writes right after
// the read of the head and tail, without waiting for it: one IndexedDB round trip fewer per
// command. Invariants:
// 1. The read is issued first, so it sees the database as it was before this transaction's
//    writes; transactions over the same tables never interleave.
// 2. When what it read differs from what was assumed (another tab wrote, a notice was late),
//    the transaction is aborted in the read's success callback, before it can commit, and the
//    command runs again the ordinary way. Nothing of the speculative attempt is kept.
// 3. Head (with the id of the event there) and tail equal to the assumed ones mean no event was
//    stored since; projection records assumed from the last commit are then what the ordinary
//    path would fold (records written without events are catch-ups of the same deterministic
//    fold, or of another projection version, which the ordinary path rebuilds to the same state).
// 4. Whatever the outcome of `decide` (events, none, or a thrown error), it is reported only
//    once the read confirmed the state it was decided on.
import {
  createEnvelope,
  type Decider,
  type EventContext,
  foldEvents,
  type ProjectionRecord,
  type SnapshotStore,
  snapshotIfDue,
} from "@chronicle/core";
import Dexie from "dexie";
import type { ExecuteResult } from "../shared/host-api.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { LogTail, StreamPosition } from "../store/log-queries.ts";
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
  /** Counts speculative attempts and their outcomes (tests, diagnostics). */
  stats?: SpeculationStats;
}

export interface SpeculationStats {
  /** Commands that wrote without waiting for the read of the head and tail. */
  speculated: number;
  /** Of those, the ones whose assumptions were stale (aborted and run again). */
  stale: number;
}

/** What a speculative attempt assumes the transaction would read. */
interface Assumed {
  loaded: DeciderState;
  position: StreamPosition & { tail: LogTail };
  records: ReadonlyMap<string, ProjectionRecord | undefined>;
}

const stale: unique symbol = Symbol("stale");

/** Runs one command against the local log; remembers the decider state once committed. */
export async function executeLocal(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  eventContext: EventContext,
): Promise<ExecuteResult> {
  const assumed = assume(deps, decider, stream);
  if (assumed) {
    if (deps.stats) deps.stats.speculated++;
    let result: ExecuteResult | typeof stale;
    try {
      result = await run(deps, decider, stream, command, eventContext, assumed);
    } catch (error) {
      // A failed command may have folded into the remembered state (a fold that mutates): it
      // is not trusted again.
      deps.deciderStates.forget(decider, stream);
      throw error;
    }
    if (result !== stale) return result;
    deps.deciderStates.forget(decider, stream);
    if (deps.stats) deps.stats.stale++;
  }
  const result = await run(deps, decider, stream, command, eventContext, undefined);
  if (result === stale) throw new Error("unreachable: an ordinary execute is never stale");
  return result;
}

// The assumptions of a speculative attempt, when this worker has them all.
function assume(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
): Assumed | undefined {
  const loaded = deps.deciderStates.peek(decider, stream);
  const tail = deps.store.tailHint;
  if (!loaded?.records || loaded.position === 0 || tail === undefined) return undefined;
  return {
    loaded,
    position: { head: loaded.position, lastId: loaded.lastId, tail },
    records: loaded.records,
  };
}

async function run(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  eventContext: EventContext,
  assumed: Assumed | undefined,
): Promise<ExecuteResult | typeof stale> {
  const { store, updater, deciderStates, snapshots } = deps;
  let reached: DeciderState | undefined;
  let wasStale = false;
  const work = async (): Promise<ExecuteResult> => {
    let position: StreamPosition;
    let records: ReadonlyMap<string, ProjectionRecord | undefined>;
    let loaded: DeciderState;
    // Settles once the assumptions are confirmed; aborts the transaction when they are not.
    let confirmed: Promise<void> = Promise.resolve();
    if (assumed) {
      ({ position, records, loaded } = assumed);
      const transaction = Dexie.currentTransaction;
      confirmed = store.position(stream).then((actual) => {
        if (samePosition(actual, assumed.position)) return;
        wasStale = true;
        // Synchronously, in the read's callback: the writes issued after it are still pending,
        // so the transaction cannot have committed (invariant 2).
        transaction?.abort();
        throw new Error("stale speculation");
      });
      confirmed.catch(() => {});
    } else {
      // Everything the command needs is read at once (IndexedDB pipelines the requests): where
      // the stream and the log end, and the projection records the events will move.
      [position, records] = await allRequests([
        store.position(stream),
        updater.prefetch(stream, deciderTypes(decider)),
      ]);
      loaded = await deciderStates.load(store, decider, stream, position, snapshots);
    }
    let envelopes: ReturnType<typeof createEnvelope>[];
    try {
      envelopes = decider
        .decide(command, loaded.state)
        .map((event) => createEnvelope(stream, decider.registry.validate(event), eventContext));
    } catch (error) {
      await confirmed; // invariant 4: a stale state's verdict is not reported
      throw error;
    }
    if (envelopes.length === 0) {
      await confirmed;
      reached = loaded;
      return { events: [], head: loaded.position, projections: [] };
    }
    // The head was read in this transaction (the fold reached it), or is confirmed by the read
    // issued above; the envelopes' ids were just generated: the store needs to read neither.
    const [written] = await allRequests([
      store.write(stream, envelopes, {
        expectedVersion: loaded.position === 0 ? "no-stream" : loaded.position,
        knownHead: loaded.position,
        freshIds: true,
        knownTail: position.tail ?? null,
        prefetched: records,
      }),
      confirmed,
    ]);
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
      records: new Map(
        written.projections
          .filter((record) => record.checkpoint === written.head)
          .map((record) => [record.key, record]),
      ),
    };
    return { events: written.events, head: written.head, projections: [...written.projections] };
  };
  try {
    const result = await store.transaction(work, `execute ${decider.name} on ${stream}`);
    // Only after the commit: an aborted transaction must not leave its state in the cache.
    if (reached) deciderStates.remember(decider, stream, reached);
    return result;
  } catch (error) {
    if (wasStale) return stale;
    throw error;
  }
}

function samePosition(actual: StreamPosition, assumed: StreamPosition): boolean {
  return (
    actual.head === assumed.head &&
    actual.lastId === assumed.lastId &&
    actual.tail?.seq === assumed.tail?.seq &&
    actual.tail?.recordedAt === assumed.tail?.recordedAt
  );
}

// internal: not exported. A command when this worker is the authority (no sync engine): load
// the decider's state (snapshot + tail), decide, and append, all in one transaction with the
// projection updates the events cause. The leader also saves the decider's snapshot in that
// transaction when one is due.
//
// Known state. When this worker committed the stream's last command and has heard of no commit
// from another context since, it knows what an ordinary transaction would read: the stream
// head, the log tail, the decider state and the projection records. It then decides on them and
// writes without reading anything (DexieEventStore.writeAt): one transaction over events and
// projections, committed as soon as its requests are issued. The engine's other writes to a
// stream (append, undo compensations) forget what was known of it, so the next command reads
// instead of trying a position they took (invariant 1 would refuse it). Invariants:
// 1. Nothing decided on a known state is reported unless its write commits. The unique
//    `[stream+position]` and `seq` indexes refuse rows that continue from a head or tail another
//    context moved (the log only grows: a local engine never resets it, and when the browser
//    closes the connection, as clearing the site's data does, the store forgets the tail, so
//    nothing is known until a transaction has read it again), the transaction then aborts
//    whole, and the command runs again the ordinary way.
// 2. A verdict that writes nothing (decide throws, or decides no event) is not reported from a
//    known state, which may be stale: the command runs the ordinary way, deciding on what its
//    transaction read.
// 3. Equal head and tail mean no event was stored since, so the projection records remembered
//    from the last commit are what the ordinary path would fold (records written without events
//    are catch-ups of the same deterministic fold, or of another projection version, which the
//    ordinary path rebuilds to the same state). A remembered record a command does not concern
//    is kept with its checkpoint: the events after it are this worker's, of types it does not
//    handle, so folding them would leave it as it is.
// 4. Known-state attempts of one worker run one at a time (KnownWrites): each continues the log
//    where the previous one left it. Concurrent ones would all take the same position or commit
//    sequence, and all but one be refused.
// 5. A commit that needs more than events and projection records (a snapshot is due, a record
//    is not known, a handler throws, the store cannot write this way) takes the ordinary path.
//    When only a snapshot is due, the known state stays remembered: the ordinary transaction
//    checks it against the head it reads and starts from it instead of loading snapshot + tail.
import {
  type ConfirmedEvent,
  createEnvelope,
  type Decider,
  type EventContext,
  foldEvents,
  type NewEvent,
  type ProjectionRecord,
  type SnapshotStore,
} from "@chronicle/core";
import { skippedField, withSkipped } from "@chronicle/core/store";
import type { EarlyAnswer, ExecuteResult } from "../shared/host-api.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { LogTail } from "../store/log-queries.ts";
import type { ProjectionUpdater } from "../store/projection-updater.ts";
import { allRequests } from "../store/storage-errors.ts";
import type { CommandOutcome } from "./command-queue.ts";
import {
  type DeciderState,
  type DeciderStates,
  deciderSnapshotEvery,
  deciderTypes,
  snapshotIfDue,
} from "./decider-states.ts";

export interface LocalExecuteDeps {
  store: DexieEventStore;
  updater: ProjectionUpdater;
  deciderStates: DeciderStates;
  /** Loads snapshots; saves them only when this context leads. */
  snapshots: SnapshotStore;
  now: (() => number) | undefined;
  /** Counts speculative attempts and their outcomes (tests, diagnostics). */
  stats?: SpeculationStats;
  /** The worker's turn-taking for known-state writes (invariant 4). */
  knownWrites: KnownWrites;
}

/** Gives known-state writes their turns, one at a time, in the order asked. */
export class KnownWrites {
  #last: Promise<void> = Promise.resolve();

  /** Resolves when it is the caller's turn, with the function that ends it. */
  async turn(): Promise<() => void> {
    const previous = this.#last;
    let end!: () => void;
    this.#last = new Promise((resolve) => {
      end = resolve;
    });
    await previous;
    return end;
  }
}

export interface SpeculationStats {
  /** Commands decided on a known state (see the invariants above). */
  speculated: number;
  /** Of those, the ones whose write was refused (another context wrote): run again. */
  stale: number;
  /** Of those, the ones that wrote nothing on the known state, confirmed the ordinary way. */
  unconfirmed: number;
}

/** Runs one command against the local log; remembers the decider state once committed. */
export async function executeLocal(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  eventContext: EventContext,
  early?: EarlyAnswer,
): Promise<ExecuteResult> {
  const endTurn = await deps.knownWrites.turn();
  const loaded = deps.deciderStates.peek(decider, stream);
  const tail = deps.store.tailHint;
  const records = loaded?.records;
  if (!records || loaded.position === 0 || tail === undefined || !deps.store.canWriteAt) {
    endTurn();
  } else {
    if (deps.stats) deps.stats.speculated++;
    let outcome: ExecuteResult | "stale" | "unconfirmed" | "snapshot-due";
    try {
      outcome = await executeKnown(
        deps,
        decider,
        stream,
        command,
        eventContext,
        { ...loaded, records, tail },
        early,
      );
    } catch (error) {
      deps.deciderStates.forget(decider, stream);
      throw error;
    } finally {
      endTurn();
    }
    if (typeof outcome === "object") return outcome;
    // A snapshot due needs the ordinary transaction, not another state: the known one is still
    // the stream's (nothing was written), and the ordinary path starts from it without reading
    // the events since the last snapshot again.
    if (outcome === "snapshot-due") outcome = "unconfirmed";
    else deps.deciderStates.forget(decider, stream);
    if (deps.stats) deps.stats[outcome]++;
  }
  return run(deps, decider, stream, command, eventContext);
}

// A command decided on the known state and written without reads (invariants 1-4).
async function executeKnown(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  eventContext: EventContext,
  known: DeciderState & { records: ReadonlyMap<string, ProjectionRecord>; tail: LogTail },
  early: EarlyAnswer | undefined,
): Promise<ExecuteResult | "stale" | "unconfirmed" | "snapshot-due"> {
  const { store } = deps;
  let events: ConfirmedEvent[];
  try {
    const envelopes = decider
      .decide(command, known.state)
      .map((event) => createEnvelope(stream, decider.registry.validate(event), eventContext));
    if (envelopes.length === 0) return "unconfirmed";
    events = store.confirmAt(stream, envelopes, known.position, known.tail);
  } catch {
    return "unconfirmed";
  }
  const head = known.position + events.length;
  if (head - known.snapshotPosition >= deciderSnapshotEvery(decider)) return "snapshot-due";
  let state: unknown;
  let result: ExecuteResult | undefined;
  let committed: ReturnType<EarlyAnswer> | undefined;
  // The folds run in the transaction, once the events' writes are issued (as on the ordinary
  // path): a worker stopped meanwhile leaves nothing. A fold that throws (or mutates the known
  // state) declines the write; executeLocal then forgets the known state.
  const outcome = await store.writeAt(
    stream,
    events,
    known.tail,
    () => {
      try {
        const records = deps.updater.foldKnown(stream, events, known.records, known.tail);
        if (records) state = foldEvents(decider, known.state, events);
        return records;
      } catch {
        return undefined;
      }
    },
    (projections) => {
      // Known before the commit completes: the caller may start sending it (not showing it).
      result = { events, head, projections: [...projections] };
      committed = early?.(result);
    },
  );
  if (outcome === "stale") return "stale";
  if (outcome === "unavailable" || outcome === "declined" || !result) return "unconfirmed";
  committed?.();
  const { projections } = result;
  deps.deciderStates.remember(decider, stream, {
    state,
    position: head,
    snapshotPosition: known.snapshotPosition,
    lastId: events.at(-1)?.id,
    ...skippedField(known.skipped),
    records: new Map([
      ...known.records,
      ...projections.map((record) => [record.key, record] as const),
    ]),
  });
  return result;
}

async function run(
  deps: LocalExecuteDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  eventContext: EventContext,
): Promise<ExecuteResult> {
  const { store, updater, deciderStates, snapshots } = deps;
  let reached: DeciderState | undefined;
  const work = async (): Promise<ExecuteResult> => {
    // Everything the command needs is read at once (IndexedDB pipelines the requests): where
    // the stream and the log end, and the projection records the events will move.
    const [position, records] = await allRequests([
      store.position(stream),
      updater.prefetch(stream, deciderTypes(decider)),
    ]);
    const loaded = await deciderStates.load(store, decider, stream, position, snapshots);
    const envelopes = decider
      .decide(command, loaded.state)
      .map((event) => createEnvelope(stream, decider.registry.validate(event), eventContext));
    if (envelopes.length === 0) {
      reached = loaded;
      return { events: [], head: loaded.position, projections: [] };
    }
    // The head was read in this transaction (the fold reached it); the envelopes' ids were just
    // generated: the store needs to read neither.
    const written = await store.write(stream, envelopes, {
      expectedVersion: loaded.position === 0 ? "no-stream" : loaded.position,
      knownHead: loaded.position,
      freshIds: true,
      knownTail: position.tail ?? null,
      prefetched: records,
    });
    const state = await snapshotIfDue(
      snapshots,
      decider,
      stream,
      {
        state: foldEvents(decider, loaded.state, written.events),
        position: written.head,
        snapshotPosition: loaded.snapshotPosition,
        lastId: written.events.at(-1)?.id,
        // What the fold skipped (unknown types or versions) stays with the snapshot (invariant 11).
        ...skippedField(loaded.skipped),
      },
      deps.now,
    );
    reached = {
      ...state,
      records: new Map(
        written.projections
          .filter((record) => record.checkpoint === written.head)
          .map((record) => [record.key, record]),
      ),
    };
    return { events: written.events, head: written.head, projections: [...written.projections] };
  };
  const result = await store.transaction(work, `execute ${decider.name} on ${stream}`);
  // Only after the commit: an aborted transaction must not leave its state in the cache.
  if (reached) deciderStates.remember(decider, stream, reached);
  return result;
}

/** A command waiting in a batch (see {@link executeLocalBatch}). */
export interface LocalCommand {
  decider: Decider<any, any, any>;
  command: unknown;
  eventContext: EventContext;
}

/**
 * Runs commands of one stream in one transaction (group commit): the decider states are read
 * once, each command is decided on the state the previous ones left (their events folded in
 * memory, at the positions they are about to take), and all their events are written at once,
 * moving each projection once. A command its decider refuses (or whose events are invalid) is
 * refused alone; a failed transaction rejects, storing nothing (the caller then runs them one
 * by one).
 */
export async function executeLocalBatch(
  deps: LocalExecuteDeps,
  stream: string,
  commands: readonly LocalCommand[],
): Promise<CommandOutcome[]> {
  const { store, deciderStates, snapshots } = deps;
  const reached = new Map<Decider<any, any, any>, DeciderState>();
  const outcomes = await store.transaction(async () => {
    const position = await store.position(stream);
    const working = new Map<
      Decider<any, any, any>,
      { loaded: DeciderState; state: unknown; folded: number }
    >();
    const envelopes: NewEvent[] = [];
    const decided: Array<{ from: number; to: number } | { error: unknown }> = [];
    for (const { decider, command, eventContext } of commands) {
      let entry = working.get(decider);
      if (!entry) {
        const loaded = await deciderStates.load(store, decider, stream, position, snapshots);
        entry = { loaded, state: loaded.state, folded: 0 };
        working.set(decider, entry);
      }
      try {
        if (entry.folded < envelopes.length) {
          const earlier = envelopes.slice(entry.folded);
          const at = position.head + entry.folded;
          entry.state = foldEvents(
            decider,
            entry.state,
            store.confirmAt(stream, earlier, at, position.tail),
          );
          entry.folded = envelopes.length;
        }
        const mine = decider
          .decide(command, entry.state)
          .map((event) => createEnvelope(stream, decider.registry.validate(event), eventContext));
        decided.push({ from: envelopes.length, to: envelopes.length + mine.length });
        envelopes.push(...mine);
      } catch (error) {
        decided.push({ error });
      }
    }
    if (envelopes.length === 0) {
      for (const [decider, entry] of working) reached.set(decider, entry.loaded);
      return decided.map(
        (outcome): CommandOutcome =>
          "error" in outcome
            ? outcome
            : { result: { events: [], head: position.head, projections: [] } },
      );
    }
    // The head was read in this transaction and the ids were just generated (as in `run`).
    const written = await store.write(stream, envelopes, {
      expectedVersion: position.head === 0 ? "no-stream" : position.head,
      knownHead: position.head,
      freshIds: true,
      knownTail: position.tail ?? null,
    });
    const records = new Map(
      written.projections
        .filter((record) => record.checkpoint === written.head)
        .map((record) => [record.key, record]),
    );
    for (const [decider, { loaded }] of working) {
      const state = await snapshotIfDue(
        snapshots,
        decider,
        stream,
        {
          // Folded again from the events as stored (their recordedAt is the store's).
          state: foldEvents(decider, loaded.state, written.events),
          position: written.head,
          snapshotPosition: loaded.snapshotPosition,
          lastId: written.events.at(-1)?.id,
          ...skippedField(withSkipped(decider, loaded.skipped, written.events)),
        },
        deps.now,
      );
      reached.set(decider, { ...state, records });
    }
    const projections = [...written.projections];
    return decided.map((outcome): CommandOutcome => {
      if ("error" in outcome) return outcome;
      const events = written.events.slice(outcome.from, outcome.to);
      const head = position.head + outcome.to;
      return {
        result:
          events.length > 0 ? { events, head, projections } : { events, head, projections: [] },
      };
    });
  }, `execute ${commands.length} commands on ${stream}`);
  // Only after the commit: an aborted transaction must not leave its states in the cache.
  for (const [decider, state] of reached) deciderStates.remember(decider, stream, state);
  return outcomes;
}

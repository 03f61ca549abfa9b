// internal: not exported. The optimistic states of the synced path, kept incrementally in the
// worker (docs/architecture.md, "The optimistic state, kept incrementally", invariant 14). Per
// stream, a PendingView: the pending events as stored, on top of a confirmed head. Per
// (decider|projection, stream), the
// confirmed state at the view's head and the optimistic state with the view's first `folded`
// pending events folded in. A command folds only its own events into it; when the log changed
// underneath (confirmed events, acks, rejections, drops, an epoch reset, another tab's writes)
// the view is rebased or read again, and each state is folded again from its confirmed state,
// moved forward by the confirmed events (a rebase). Invariants:
// 1. A view describes the stream as it was at some moment: read in one transaction, or extended
//    after a commit by exactly the rows that commit added after the rows the view holds.
// 2. A view is used only after checking, in the caller's transaction, that the stream still has
//    the view's confirmed head (position and event id), epoch, last pending key and stamp
//    (invariant 7), or by a write the stamp makes fail when it does not (optimistic-known.ts). Pending
//    keys come from an auto-increment that never reuses a key; rows leave `pending` only when
//    confirmed (the head moves) or when a writer removes every row from the first one it drops
//    to the end and writes the survivors again under new keys (replacePending, dropPending).
//    So an unchanged head, epoch and last key mean an unchanged pending list.
// 3. A state is used only at its view's generation. The generation changes whenever the view's
//    confirmed head or pending list changes other than by rows added at its end.
// 4. A rebase folds the pending events into a copy of the confirmed state, which is kept as it
//    was (with nothing pending it starts from the confirmed state itself: folds do not change
//    their input, which the local path relies on too). So optimistic state == fold(confirmed
//    state, pending events) (docs/architecture.md, invariant 7) holds for every state used.
// 5. A view rebased in memory remembers the last few views it descends from by rebases only,
//    with the confirmed events since each: a state kept at any of them moves forward by those
//    events (several rebases may pass between two uses of a state: an ack, then others' events).
// 6. One view per moment: when readers that raced rebase the same kept view, the first one
//    kept wins and the others use it (a second generation for the same moment would orphan the
//    states kept at the first).
// 7. A view holds the stream's stamp as its moment saw it (schema.ts, invariant 5), and a view
//    extended after a commit holds the stamp that commit left. These states own the stamps their
//    engine's log and commands write (`owner`), so a commit that checks the view's stamp
//    (stream-stamps.ts, checkStamp) commits only if the stream is still exactly as the view
//    describes it: the only writes under an unchanged stamp of ours are our kept views', which
//    extend the view (or drop it when it changed meanwhile).
import {
  type ConfirmedEvent,
  type Foldable,
  foldEvents,
  type RecordedEvent,
} from "@chronicle/core";
import Dexie from "dexie";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { FloorState } from "../store/floor.ts";
import type { StreamPosition } from "../store/log-queries.ts";
import type { PendingCommandRow, StreamSyncState } from "../store/schema.ts";
import { toStorageError } from "../store/storage-errors.ts";
import { readStamp } from "../store/stream-stamps.ts";

/** What a transaction reads to check a view (invariant 2): three index lookups, no rows. */
export interface StreamProbe {
  position: StreamPosition;
  /** The key of the stream's last pending row (undefined when none). */
  lastLocalSeq: number | undefined;
  epoch: string | undefined;
  /** The stream's stamp (undefined: never stamped). */
  stamp: string | undefined;
  /** Where its confirmed history starts (a snapshot start's floor; 0 when it starts at 1). */
  floor: number;
}

/** The pending events of a stream over a confirmed head (invariant 1). */
export interface PendingView {
  readonly stream: string;
  readonly head: number;
  readonly lastId: string | undefined;
  readonly epoch: string | undefined;
  /** The key of the last pending row the view holds (undefined when none). */
  lastLocalSeq: number | undefined;
  /** The stream's stamp at the view's moment (invariant 7). */
  stamp: string | undefined;
  /** The pending events in local order, as stored (no position, no recordedAt). */
  readonly events: RecordedEvent[];
  /** Their keys (`localSeq`), in the same order. */
  readonly keys: number[];
  /** The commands that made them (undefined: an event appended without one), in the same order. */
  readonly commands: (PendingCommandRow | undefined)[];
  /** See invariant 3. */
  readonly generation: number;
  /**
   * When the view was rebased from earlier ones by confirmed events only: for each of the last
   * few of those views (newest first), its generation and the confirmed events since, so states
   * of that generation move their confirmed part forward in memory (invariant 5).
   */
  readonly rebasedFrom?: readonly RebaseStep[];
}

/** A view this one was rebased from, and the confirmed events that moved it here. */
export interface RebaseStep {
  readonly generation: number;
  readonly confirmed: readonly ConfirmedEvent[];
}

/** A fold's state over a view: confirmed (never folded into) and optimistic. */
export interface FoldedState<Base = unknown> {
  generation: number;
  /** What the confirmed state came with (the decider state, or the projection record). */
  base: Base;
  /** The confirmed state at the view's head. */
  confirmed: unknown;
  /** How many of the view's pending events `state` includes. */
  folded: number;
  /** The optimistic state. */
  state: unknown;
}

/** Counters for tests and benchmarks (how often views and states were rebuilt). */
export interface OptimisticStats {
  /** Views read whole from `pending` (O(pending)). */
  viewReads: number;
  /** Views rebased in memory after confirmed events only (no pending row read). */
  viewRebases: number;
  /** States folded again from their confirmed state. */
  stateRebases: number;
  /** Pending events folded (by commands, reads and rebases). */
  pendingFolded: number;
  /** Commands decided on a kept view and written without a probe round trip (optimistic-known). */
  knownCommands: number;
}

/** The most confirmed events a view is rebased over in memory (more: states load afresh). */
const maxRebase = 5000;

/** Writes from a kept view after it went stale before its answers are posted early again. */
const calmWrites = 8;

/** The most streams (views) and states kept; least recently used go first. */
const capacity = 512;

export class OptimisticStates {
  readonly #views = new Map<string, PendingView>();
  readonly #states = new Map<string, FoldedState>();
  // Streams whose kept views went stale lately: the writes from a kept view since (speculates).
  readonly #calm = new Map<string, number>();
  #generation = 0;
  readonly stats: OptimisticStats = {
    viewReads: 0,
    viewRebases: 0,
    stateRebases: 0,
    pendingFolded: 0,
    knownCommands: 0,
  };

  /** The owner these states' engine names in the stream stamps it writes (invariant 7). */
  readonly owner = crypto.randomUUID();

  constructor(readonly store: DexieEventStore) {}

  /**
   * The stream's current view, in a read-only transaction of its own (a consistent moment):
   * three index lookups when the kept view still holds (invariant 2), no pending row read.
   */
  current(stream: string): Promise<{ view: PendingView; probe: StreamProbe }> {
    const db = this.store.db;
    return db
      .transaction(
        "r",
        [db.events, db.pending, db.meta, db.stamps],
        async () => await this.view(stream),
      )
      .catch((error: unknown) => {
        throw toStorageError(error, `read the pending events of ${stream}`);
      });
  }

  /**
   * The stream's kept view, unchecked: whoever decides on it must check it in the transaction
   * that writes (invariant 2).
   */
  keptView(stream: string): PendingView | undefined {
    return this.#views.get(stream);
  }

  /** Reads what checks a view, joining the caller's transaction (issued together). */
  async probe(stream: string): Promise<StreamProbe> {
    const db = this.store.db;
    const [position, keys, meta, stamp] = await Dexie.Promise.all([
      this.store.position(stream),
      db.pending
        .where("[stream+localSeq]")
        .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
        .reverse()
        .limit(1)
        .primaryKeys(),
      db.meta.get(`stream/${stream}`),
      readStamp(db, stream),
    ]);
    return {
      position,
      lastLocalSeq: keys[0] as number | undefined,
      epoch: (meta?.value as StreamSyncState | undefined)?.epoch,
      stamp,
      floor: (meta?.value as FloorState | undefined)?.floor ?? 0,
    };
  }

  /**
   * The stream's current view, inside the caller's transaction: the kept one when the probe
   * matches it, rebased when only acks of its first events moved the head, read otherwise.
   */
  async view(stream: string): Promise<{ view: PendingView; probe: StreamProbe }> {
    const probe = await this.probe(stream);
    const kept = this.#views.get(stream);
    if (kept && matches(kept, probe)) return { view: kept, probe };
    const view = (kept && (await this.#rebase(kept, probe))) ?? (await this.#read(stream, probe));
    // Invariant 6: readers that started together (watchers refreshed by one notice) agree on
    // one view, so that the states one of them keeps are of the generation the others use.
    const now = this.#views.get(stream);
    if (now && now !== kept && matches(now, probe)) return { view: now, probe };
    this.#touch(this.#views, stream, view);
    return { view, probe };
  }

  /**
   * After a commit that added `events` (as stored) at the end of the pending list and wrote the
   * stream's `stamp`: extends the view they were decided on, when it is still the stream's view
   * and no other row was added meanwhile. Returns whether it did (else the next user reads the
   * view again).
   */
  extend(
    view: PendingView,
    events: readonly RecordedEvent[],
    commands: readonly (PendingCommandRow | undefined)[],
    lastLocalSeq: number,
    stamp: string,
  ): boolean {
    if (this.#views.get(view.stream) !== view || (view.lastLocalSeq ?? 0) >= lastLocalSeq) {
      this.#views.delete(view.stream);
      return false;
    }
    // One bulkAdd in one transaction: its rows took consecutive keys.
    const first = lastLocalSeq - events.length + 1;
    for (let index = 0; index < events.length; index++) {
      view.events.push(events[index]!);
      view.keys.push(first + index);
      view.commands.push(commands[index]);
    }
    view.lastLocalSeq = lastLocalSeq;
    view.stamp = stamp;
    return true;
  }

  /**
   * The fold's kept state over `view` when it is of the view's generation, or moved forward
   * from the previous one (the view was rebased over confirmed events: `moveBase` moves what
   * came with the confirmed state). Not caught up with the view's events: see {@link catchUp}.
   * Nothing is kept: see {@link keep}.
   */
  kept<Base>(
    foldable: Foldable<unknown>,
    view: PendingView,
    moveBase: (base: Base, confirmed: unknown, events: readonly ConfirmedEvent[]) => Base,
  ): FoldedState<Base> | undefined {
    const kept = this.#states.get(keyOf(foldable, view.stream)) as FoldedState<Base> | undefined;
    if (kept?.generation === view.generation) return { ...kept };
    const step = kept && view.rebasedFrom?.find((from) => from.generation === kept.generation);
    if (!kept || !step) return undefined;
    const events = step.confirmed;
    const confirmed = foldEvents(foldable, kept.confirmed, events);
    this.stats.stateRebases++;
    return this.rebased(view, moveBase(kept.base, confirmed, events), confirmed);
  }

  /** A state of the view's generation from a confirmed state at its head (a rebase). */
  rebased<Base>(view: PendingView, base: Base, confirmed: unknown): FoldedState<Base> {
    return {
      generation: view.generation,
      base,
      confirmed,
      folded: 0,
      // A copy: folding the pending events must not change the confirmed state (invariant 4).
      state: view.events.length === 0 ? confirmed : structuredClone(confirmed),
    };
  }

  /** Folds what `folded` misses of the view's events and `extra` (in place on `folded`). */
  catchUp<Base>(
    foldable: Foldable<unknown>,
    view: PendingView,
    folded: FoldedState<Base>,
    extra: readonly RecordedEvent[] = [],
  ): FoldedState<Base> {
    const total = view.events.length + extra.length;
    if (folded.folded < total) {
      const missing =
        folded.folded >= view.events.length
          ? extra.slice(folded.folded - view.events.length)
          : [...view.events.slice(folded.folded), ...extra];
      folded.state = foldEvents(foldable, folded.state, missing);
      this.stats.pendingFolded += missing.length;
      folded.folded = total;
    }
    return folded;
  }

  /**
   * Keeps a state (after its transaction committed) when it is of the stream's view and folds
   * no more events than the view holds.
   */
  keep(foldable: Foldable<unknown>, stream: string, folded: FoldedState): void {
    const view = this.#views.get(stream);
    if (view?.generation !== folded.generation || folded.folded > view.events.length) return;
    this.#touch(this.#states, keyOf(foldable, stream), folded);
  }

  /**
   * Whether a command on the stream's kept view should post its answer before its write is known
   * to hold: not while the stream's kept views went stale recently (acknowledgements arriving
   * under clicks in quick succession), when the answer would most likely be cloned for nothing.
   * Only when an answer is posted, never what is committed, depends on it.
   */
  speculates(stream: string): boolean {
    return !this.#calm.has(stream);
  }

  /** A command on the stream's kept view found it stale (`true`) or wrote from it (`false`). */
  wrote(stream: string, stale: boolean): void {
    const calm = this.#calm.get(stream);
    if (stale) this.#touch(this.#calm, stream, 0);
    if (stale || calm === undefined) return;
    if (calm + 1 >= calmWrites) this.#calm.delete(stream);
    else this.#calm.set(stream, calm + 1);
  }

  /** Forgets the stream's view and states (this worker reset or rewrote it). */
  forgetStream(stream: string): void {
    this.#views.delete(stream);
  }

  // Only confirmed events arrived since the view (acks of some of its events, others' events):
  // the remaining events are the view's whose ids were not confirmed, provided the last of them
  // is still the last pending row (invariant 2). The confirmed events are kept for the states
  // of the view's generation to move forward in memory.
  async #rebase(kept: PendingView, probe: StreamProbe): Promise<PendingView | undefined> {
    const { head, lastId } = probe.position;
    if (kept.epoch !== probe.epoch || head <= kept.head || head - kept.head > maxRebase) {
      return undefined;
    }
    let read: ConfirmedEvent[];
    try {
      read = await this.store.readStream(kept.stream, { from: Math.max(1, kept.head) });
    } catch {
      return undefined; // e.g. below a floor: read the view afresh
    }
    if (kept.head > 0 && read[0]?.id !== kept.lastId) return undefined;
    const confirmed = kept.head > 0 ? read.slice(1) : read;
    if (confirmed.length !== head - kept.head || confirmed.at(-1)?.id !== lastId) return undefined;
    const ids = new Set(confirmed.map((event) => event.id));
    const events: RecordedEvent[] = [];
    const keys: number[] = [];
    const commands: (PendingCommandRow | undefined)[] = [];
    kept.events.forEach((event, index) => {
      if (ids.has(event.id)) return;
      events.push(event);
      keys.push(kept.keys[index]!);
      commands.push(kept.commands[index]);
    });
    if (keys.at(-1) !== probe.lastLocalSeq) return undefined;
    this.stats.viewRebases++;
    return {
      stream: kept.stream,
      head,
      lastId,
      epoch: probe.epoch,
      lastLocalSeq: probe.lastLocalSeq,
      stamp: probe.stamp,
      events,
      keys,
      commands,
      generation: ++this.#generation,
      rebasedFrom: rebaseSteps(kept, confirmed),
    };
  }

  async #read(stream: string, probe: StreamProbe): Promise<PendingView> {
    this.stats.viewReads++;
    const rows = await this.store.db.pending
      .where("[stream+localSeq]")
      .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
      .toArray();
    return {
      stream,
      head: probe.position.head,
      lastId: probe.position.lastId,
      epoch: probe.epoch,
      lastLocalSeq: rows.at(-1)?.localSeq,
      stamp: probe.stamp,
      events: rows.map((row) => row.event),
      keys: rows.map((row) => row.localSeq!),
      commands: rows.map((row) => row.command),
      generation: ++this.#generation,
    };
  }

  #touch<T>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > capacity) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}

/** How many earlier views a view keeps the way back to (see PendingView.rebasedFrom). */
const rebaseDepth = 4;

// Invariant 5: the steps back from a view rebased from `kept` by `confirmed`: to `kept` itself,
// and to the views `kept` was rebased from, their confirmed events followed by these.
function rebaseSteps(kept: PendingView, confirmed: readonly ConfirmedEvent[]): RebaseStep[] {
  const steps: RebaseStep[] = [{ generation: kept.generation, confirmed }];
  for (const earlier of kept.rebasedFrom ?? []) {
    if (steps.length >= rebaseDepth) break;
    if (earlier.confirmed.length + confirmed.length > maxRebase) break;
    steps.push({ generation: earlier.generation, confirmed: [...earlier.confirmed, ...confirmed] });
  }
  return steps;
}

function matches(view: PendingView, probe: StreamProbe): boolean {
  return (
    view.head === probe.position.head &&
    view.lastId === probe.position.lastId &&
    view.epoch === probe.epoch &&
    view.lastLocalSeq === probe.lastLocalSeq &&
    view.stamp === probe.stamp
  );
}

const keyOf = (foldable: Foldable<unknown>, stream: string) =>
  `${foldable.kind}:${foldable.name}/${stream}`;

/** An event as `pending` stores it: without the position and recordedAt an authority gives. */
export function asPending(event: RecordedEvent): RecordedEvent {
  const { position: _position, recordedAt: _recordedAt, ...stored } = event;
  return stored;
}

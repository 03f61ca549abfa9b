// internal: not exported. The last state each decider reached on each stream in this worker,
// after a committed command, so that the next command on the stream reads nothing or only the
// events another tab added since. Confirmed events never change, so a state folded to a position
// stays right as long as the event at that position is still the one it was folded to (a sync
// epoch reset may replace the log: then the state is loaded again).
// Decider states are persisted as snapshots, as projections persist their records: every
// `snapshotEvery` events, or every DEFAULT_DECIDER_SNAPSHOT_EVERY when the decider sets none, in
// the transaction of the command that reaches them (with sync: of the command that decides on
// them); only the leader saves. So the first command after a cold open folds a snapshot and a
// short tail, not the whole stream.
import {
  type AnyEventDefinition,
  type Decider,
  foldEvents,
  type LoadedState,
  loadState,
  type ProjectionRecord,
  type SnapshotStore,
} from "@chronicle/core";
import { skippedField, snapshotKey, withSkipped } from "@chronicle/core/store";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { StreamPosition } from "../store/log-queries.ts";

export interface DeciderState extends LoadedState<unknown> {
  /** The id of the event at `position` (undefined at position 0). */
  lastId: string | undefined;
  /**
   * Projection records of the stream this worker committed at `position` (checkpoint ===
   * position), by key: what the next command would read, when nothing moved meanwhile.
   */
  records?: ReadonlyMap<string, ProjectionRecord>;
}

/** The most streams whose decider states are kept (least recently used go first). */
const capacity = 256;

export class DeciderStates {
  readonly #states = new Map<string, DeciderState>();

  /**
   * The decider's state at the stream's head, inside the caller's transaction: from the cache
   * when it is current, folded forward when other tabs wrote, loaded (snapshot + tail) otherwise.
   */
  async load(
    store: DexieEventStore,
    decider: Decider<any, any, any>,
    stream: string,
    position: StreamPosition,
    snapshots: SnapshotStore,
    /** A state this caller reached in its transaction (before the cache knows it). */
    reached?: DeciderState,
  ): Promise<DeciderState> {
    const cached = reached ?? this.#states.get(keyOf(decider, stream));
    if (cached && cached.position === position.head && cached.lastId === position.lastId) {
      return cached;
    }
    if (cached && position.head > cached.position) {
      // Read from the cached position itself: its event must still be the one folded to.
      const tail = await store.readStream(stream, { from: Math.max(1, cached.position) });
      if (cached.position === 0 || tail[0]?.id === cached.lastId) {
        const after = cached.position === 0 ? tail : tail.slice(1);
        return {
          state: foldEvents(decider, cached.state, after),
          position: after.at(-1)?.position ?? cached.position,
          snapshotPosition: cached.snapshotPosition,
          lastId: position.lastId,
          // Events another context wrote that this decider does not know (invariant 11).
          ...skippedField(withSkipped(decider, cached.skipped, after)),
        };
      }
    }
    const loaded = await loadState(store, decider, stream, { snapshots });
    return { ...loaded, lastId: position.lastId };
  }

  /** The state last remembered for the decider on the stream (unverified: it may be stale). */
  peek(decider: Decider<any, any, any>, stream: string): DeciderState | undefined {
    return this.#states.get(keyOf(decider, stream));
  }

  /** Drops the remembered state (e.g. after a failed command that may have used it). */
  forget(decider: Decider<any, any, any>, stream: string): void {
    this.#states.delete(keyOf(decider, stream));
  }

  /**
   * Drops every decider's remembered state on the stream: this worker wrote to it some other way
   * (an append, an undo's compensation), so a known-state write would find its position taken.
   */
  forgetStream(stream: string): void {
    const suffix = `/${stream}`;
    // A decider name with a slash may make another stream's key match too: forgetting more than
    // needed only costs a read.
    for (const key of [...this.#states.keys()]) if (key.endsWith(suffix)) this.#states.delete(key);
  }

  /** Keeps a state reached by a committed command (call only after the commit). */
  remember(decider: Decider<any, any, any>, stream: string, state: DeciderState): void {
    const key = keyOf(decider, stream);
    this.#states.delete(key);
    this.#states.set(key, state);
    if (this.#states.size > capacity) {
      const oldest = this.#states.keys().next().value;
      if (oldest !== undefined) this.#states.delete(oldest);
    }
  }
}

const keyOf = (decider: Decider<any, any, any>, stream: string) => `${decider.name}/${stream}`;

const typesOfDecider = new WeakMap<Decider<any, any, any>, ReadonlySet<string>>();

/** The event types a decider writes (the projections its commands can move). */
export function deciderTypes(decider: Decider<any, any, any>): ReadonlySet<string> {
  let types = typesOfDecider.get(decider);
  if (!types) {
    types = new Set(decider.events.map((definition: AnyEventDefinition) => definition.type));
    typesOfDecider.set(decider, types);
  }
  return types;
}

/** How often decider states are snapshotted when the decider does not say (`snapshotEvery`). */
export const DEFAULT_DECIDER_SNAPSHOT_EVERY = 1000;

/** Events between two snapshots of the decider's state in the browser host. */
export function deciderSnapshotEvery(decider: Decider<any, any, any>): number {
  return decider.snapshotEvery ?? DEFAULT_DECIDER_SNAPSHOT_EVERY;
}

/**
 * Saves the decider's (confirmed) state as a snapshot when {@link deciderSnapshotEvery} events
 * were folded since the last one, in the caller's transaction (`snapshots` saves only when this
 * context leads); returns the state with its snapshot position. What the fold skipped stays
 * with the snapshot (invariant 11).
 */
export async function snapshotIfDue<T extends DeciderState>(
  snapshots: SnapshotStore,
  decider: Decider<any, any, any>,
  stream: string,
  state: T,
  now: () => number = Date.now,
): Promise<T> {
  if (state.position - state.snapshotPosition < deciderSnapshotEvery(decider)) return state;
  await snapshots.save({
    key: snapshotKey("decider", decider.name, stream),
    position: state.position,
    version: decider.version,
    state: state.state,
    takenAt: now(),
    ...skippedField(state.skipped),
  });
  return { ...state, snapshotPosition: state.position };
}

import type { ConfirmedEvent } from "../events/envelope.ts";
import type { Foldable } from "../fold/foldable.ts";
import { loadState, type PointInTime, resolvePoint } from "../fold/load-state.ts";
import type { SnapshotStore } from "../snapshot/snapshot-store.ts";
import type { EventStore } from "../store/types.ts";

/** A read-only view of one stream frozen at a position: render it while the live store goes on. */
export interface StreamView {
  /** The stream it views. */
  readonly stream: string;
  /** The last position included (0 for "before the first event"). */
  readonly position: number;
  /** The state of a projection or decider as of this view (cached per definition). */
  read<State>(foldable: Foldable<State>): Promise<State>;
  /** The events up to this view's position. */
  events(options?: { from?: number; limit?: number }): Promise<ConfirmedEvent[]>;
}

/**
 * A view of `stream` at a position or time. It never sees events appended after that point.
 *
 * @example
 * const past = await viewAt(store, "board:1", { time: Date.parse("2026-11-01T12:00:00Z") }, { snapshots });
 * render(await past.read(boardProjection));
 */
export async function viewAt(
  store: EventStore,
  stream: string,
  at: PointInTime,
  options: { snapshots?: SnapshotStore } = {},
): Promise<StreamView> {
  const position = Math.min(await resolvePoint(store, stream, at), await store.head(stream));
  const cache = new Map<Foldable<unknown>, Promise<unknown>>();
  return {
    stream,
    position,
    read<State>(foldable: Foldable<State>): Promise<State> {
      let state = cache.get(foldable as Foldable<unknown>);
      if (!state) {
        state = loadState(store, foldable, stream, {
          snapshots: options.snapshots,
          maxPosition: position,
        }).then((l) => l.state);
        cache.set(foldable as Foldable<unknown>, state);
      }
      return state.then((value) => structuredClone(value as State));
    },
    events: (query = {}) =>
      store.readStream(stream, {
        from: query.from ?? 1,
        toPosition: position,
        ...(query.limit === undefined ? {} : { limit: query.limit }),
      }),
  };
}

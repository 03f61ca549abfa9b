import { ChronicleError } from "../errors.ts";
import { type Snapshot, type SnapshotStore, snapshotKey } from "../snapshot/snapshot-store.ts";
import type { EventStore } from "../store/types.ts";
import { type Foldable, foldEvents, initialStateOf } from "./foldable.ts";
import {
  copySkipped,
  learnedSkips,
  noteSkipped,
  type SkippedEvents,
  skippedField,
} from "./skipped-events.ts";

/** How {@link loadState} reads: from a snapshot, up to a position, in pages. */
export interface LoadStateOptions {
  /** Start from the nearest snapshot below the target instead of the first event. */
  snapshots?: SnapshotStore | undefined;
  /** Fold only up to this position (inclusive). @default the head */
  maxPosition?: number | undefined;
  /** Events read per store call. @default 1000 */
  pageSize?: number | undefined;
}

/** A fold's state over one stream and where it stands. */
export interface LoadedState<State> {
  /** The state after the last event folded in. */
  state: State;
  /** The last position folded in (0 for a stream with no events). */
  position: number;
  /** The position of the snapshot the fold started from (0 when none was used). */
  snapshotPosition: number;
  /** Event types and versions skipped up to `position` (unknown to the fold); absent when none. */
  skipped?: SkippedEvents;
}

/**
 * The newest snapshot of a fold over a stream that this code may use (invariant 11): same
 * version, at or below `maxPosition`, and none of the events it skipped known here now. A
 * snapshot that skipped what the fold knows today is passed over for an older one.
 *
 * @example
 * const snapshot = await loadUsableSnapshot(snapshots, boardDecider, "board:1");
 */
export async function loadUsableSnapshot<State>(
  snapshots: SnapshotStore | undefined,
  foldable: Foldable<State>,
  stream: string,
  maxPosition?: number,
): Promise<Snapshot<State> | undefined> {
  if (snapshots === undefined) return undefined;
  const key = snapshotKey(foldable.kind, foldable.name, stream);
  let below = maxPosition;
  for (;;) {
    const snapshot = await snapshots.load(key, {
      version: foldable.version,
      ...(below === undefined ? {} : { maxPosition: below }),
    });
    if (snapshot === undefined) return undefined;
    if (learnedSkips(foldable, snapshot.skipped).length === 0) return snapshot as Snapshot<State>;
    if (snapshot.position <= 0) return undefined;
    below = snapshot.position - 1;
  }
}

/**
 * Loads a decider's or projection's state over one stream: the nearest usable snapshot (same
 * version, at or below `maxPosition`), then the events after it.
 *
 * @example
 * const { state, position } = await loadState(store, boardDecider, "board:1", { snapshots });
 */
export async function loadState<State>(
  store: EventStore,
  foldable: Foldable<State>,
  stream: string,
  options: LoadStateOptions = {},
): Promise<LoadedState<State>> {
  const pageSize = options.pageSize ?? 1000;
  const maxPosition = options.maxPosition;
  const snapshot = await loadUsableSnapshot(options.snapshots, foldable, stream, maxPosition);
  let state = snapshot ? snapshot.state : initialStateOf(foldable);
  let position = snapshot?.position ?? 0;
  const skipped = copySkipped(snapshot?.skipped);
  for (;;) {
    const page = await store.readStream(stream, {
      from: position + 1,
      limit: pageSize,
      ...(maxPosition === undefined ? {} : { toPosition: maxPosition }),
    });
    if (page.length === 0) break;
    state = foldEvents(foldable, state, page);
    for (const event of page) noteSkipped(foldable, event, skipped);
    position = page[page.length - 1]!.position;
    if (page.length < pageSize) break;
  }
  return {
    state,
    position,
    snapshotPosition: snapshot?.position ?? 0,
    ...skippedField(skipped),
  };
}

/** A point in a stream's history: a position, or a time on the authority's clock. */
export type PointInTime =
  | {
      /** After the event at this position (0: before the first event). */
      position: number;
    }
  | {
      /** After the last event recorded at or before this time (`recordedAt`, ms). */
      time: number;
    };

/**
 * The state of a decider or projection as it was at a position or at a `recordedAt` time,
 * starting from the nearest snapshot below that point.
 *
 * @example
 * const { state } = await stateAt(store, boardProjection, "board:1", { time: Date.parse("2026-11-01") }, { snapshots });
 */
export async function stateAt<State>(
  store: EventStore,
  foldable: Foldable<State>,
  stream: string,
  at: PointInTime,
  options: Omit<LoadStateOptions, "maxPosition"> = {},
): Promise<LoadedState<State>> {
  const maxPosition = await resolvePoint(store, stream, at);
  return loadState(store, foldable, stream, { ...options, maxPosition });
}

/**
 * The last position at a point in time: the position itself (validated), or the last event
 * recorded at or before `time` (0 when none).
 *
 * @example
 * const position = await resolvePoint(store, "board:1", { time: Date.parse("2026-11-01") });
 */
export async function resolvePoint(
  store: EventStore,
  stream: string,
  at: PointInTime,
): Promise<number> {
  if ("position" in at) {
    if (!Number.isInteger(at.position) || at.position < 0) {
      throw new ChronicleError(
        "validation",
        `position must be an integer >= 0, got ${at.position}`,
        {
          details: { path: "position" },
        },
      );
    }
    return at.position;
  }
  if (typeof at.time !== "number" || Number.isNaN(at.time)) {
    throw new ChronicleError("validation", `time must be a number, got ${String(at.time)}`, {
      details: { path: "time" },
    });
  }
  const [last] = await store.readStream(stream, {
    direction: "backward",
    untilTime: at.time,
    limit: 1,
  });
  return last?.position ?? 0;
}

/**
 * Saves a snapshot when the fold has advanced at least `snapshotEvery` events since the last one.
 * Returns the position of the newest snapshot. `skipped` (the events up to `position` the fold
 * did not know, e.g. `loadState`'s) is kept in the snapshot, so later code that knows them
 * passes it over.
 *
 * @example
 * lastSnapshot = await snapshotIfDue(snapshots, decider, stream, state, head, lastSnapshot, Date.now, loaded.skipped);
 */
export async function snapshotIfDue<State>(
  snapshots: SnapshotStore | undefined,
  foldable: Foldable<State>,
  stream: string,
  state: State,
  position: number,
  lastSnapshotPosition: number,
  now: () => number = Date.now,
  skipped?: SkippedEvents,
): Promise<number> {
  const every = foldable.snapshotEvery;
  if (!snapshots || !every || position - lastSnapshotPosition < every) return lastSnapshotPosition;
  await snapshots.save({
    key: snapshotKey(foldable.kind, foldable.name, stream),
    position,
    version: foldable.version,
    state,
    takenAt: now(),
    ...skippedField(skipped),
  });
  return position;
}

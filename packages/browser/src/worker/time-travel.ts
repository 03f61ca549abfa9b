// internal: not exported. The engine's temporal reads: states at a position or time and diffs
// over the confirmed log (pending events have no position yet), and the stream's history, with
// sync's pending events last.
import {
  diff as diffStates,
  type Foldable,
  type HistoryEntry,
  type HistoryOptions,
  history,
  type PointInTime,
  resolvePoint,
  type SnapshotStore,
  type StateChange,
  stateAt,
  toHistoryEntry,
} from "@chronicle/core";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";

export interface TimeTravelDeps {
  store: DexieEventStore;
  snapshots: SnapshotStore;
  /** With sync: the local log whose pending events end the history. */
  local: DexieLocalLog | undefined;
}

/** A state as it was at a point of the confirmed log, from the nearest snapshot below it. */
export async function confirmedStateAt(
  deps: TimeTravelDeps,
  foldable: Foldable<unknown>,
  stream: string,
  at: PointInTime,
): Promise<{ state: unknown; position: number }> {
  const loaded = await stateAt(deps.store, foldable, stream, at, { snapshots: deps.snapshots });
  return { state: loaded.state, position: loaded.position };
}

/** The last confirmed position at a point in time, at most the head. */
export async function confirmedPointOf(
  deps: TimeTravelDeps,
  stream: string,
  at: PointInTime,
): Promise<number> {
  const [position, head] = await Promise.all([
    resolvePoint(deps.store, stream, at),
    deps.store.head(stream),
  ]);
  return Math.min(position, head);
}

/** What changed in a state between two confirmed positions. */
export function confirmedDiff(
  deps: TimeTravelDeps,
  foldable: Foldable<unknown>,
  stream: string,
  from: number,
  to: number,
): Promise<StateChange[]> {
  return diffStates(deps.store, foldable, stream, from, to, { snapshots: deps.snapshots });
}

/**
 * The stream's history; with sync, the pending events follow the confirmed ones (`pending:
 * true`, provisional positions after the head) unless `pending: false` or `to` is given.
 */
export async function historyOf(
  deps: TimeTravelDeps,
  stream: string,
  options: HistoryOptions = {},
): Promise<HistoryEntry[]> {
  const confirmed = await history(deps.store, stream, options);
  if (!deps.local || options.pending === false || options.to !== undefined) return confirmed;
  const limit = options.limit ?? 1000;
  if (confirmed.length >= limit) return confirmed;
  const [head, pending] = await Promise.all([
    deps.store.head(stream),
    deps.local.tables.pending(stream),
  ]);
  const from = options.from ?? 1;
  const provisional = pending.map(
    (row, index): HistoryEntry => ({
      ...toHistoryEntry({
        ...row.event,
        position: head + index + 1,
        recordedAt: row.event.meta.occurredAt,
      }),
      pending: true,
    }),
  );
  return [...confirmed, ...provisional.filter((entry) => entry.position >= from)].slice(0, limit);
}

import type { ConfirmedEvent } from "../events/envelope.ts";
import type { Foldable } from "../fold/foldable.ts";
import { type LoadStateOptions, loadState } from "../fold/load-state.ts";
import type { EventStore } from "../store/types.ts";

/** One line of a stream's history: who did what, when. */
export interface HistoryEntry {
  /** The event's position in the stream (provisional while `pending`). */
  position: number;
  /** The event's id. */
  id: string;
  /** The event type, e.g. `"card.moved"`. */
  type: string;
  /** Who (the node-stamped subject) and from which device. */
  actor: string;
  /** The installation that wrote it. */
  device: string;
  /** The authority's clock when ordered (what temporal reads use). */
  recordedAt: number;
  /** The writer's clock (informative). */
  occurredAt: number;
  /** The schema version its data was written with. */
  version: number;
  /** The event's data, as stored (not upcast). */
  data: unknown;
  /** The workflow it belongs to (the id of the command that started it). */
  correlationId: string;
  /** The command or event that caused it, when known. */
  causationId?: string;
  /** Set on compensating (undo) events: the ids of the events they undo. */
  undoOf?: string[];
  /** Set on re-applying (redo) events: the ids of the events they redo. */
  redoOf?: string[];
  /**
   * Written on this device and not yet ordered by the sync node (hosts with sync only):
   * `position` is provisional (after the confirmed head, in local order) and `recordedAt` is the
   * writer's clock.
   */
  pending?: true;
}

/** Which entries `history` returns. */
export interface HistoryOptions {
  /** First position, inclusive. @default 1 */
  from?: number;
  /** Last position, inclusive. @default the head */
  to?: number;
  /** At most this many entries. @default 1000 */
  limit?: number;
  /**
   * Hosts with sync: add the pending events after the confirmed ones (not when `to` is given).
   * An EventStore has no pending events, so `history(store, ...)` ignores it. @default true
   */
  pending?: boolean;
}

/**
 * A stream's events as history entries, for a history UI or an audit trail.
 *
 * @example
 * for (const entry of await history(store, "board:1", { from: 1, to: 50 })) {
 *   console.log(`#${entry.position} ${entry.type} by ${entry.actor} at ${new Date(entry.recordedAt).toISOString()}`);
 * }
 */
export async function history(
  store: EventStore,
  stream: string,
  options: HistoryOptions = {},
): Promise<HistoryEntry[]> {
  const events = await store.readStream(stream, {
    from: options.from ?? 1,
    limit: options.limit ?? 1000,
    ...(options.to === undefined ? {} : { toPosition: options.to }),
  });
  return events.map(toHistoryEntry);
}

/**
 * One confirmed event as a history entry.
 *
 * @example
 * const entries = (await store.readStream("board:1")).map(toHistoryEntry);
 */
export function toHistoryEntry(event: ConfirmedEvent): HistoryEntry {
  const entry: HistoryEntry = {
    position: event.position,
    id: event.id,
    type: event.type,
    actor: event.meta.actor,
    device: event.meta.device,
    recordedAt: event.recordedAt,
    occurredAt: event.meta.occurredAt,
    version: event.version,
    data: event.data,
    correlationId: event.meta.correlationId,
  };
  if (event.meta.causationId !== undefined) entry.causationId = event.meta.causationId;
  if (event.meta.undoOf) entry.undoOf = event.meta.undoOf;
  if (event.meta.redoOf) entry.redoOf = event.meta.redoOf;
  return entry;
}

/** One difference between two read-model states. */
export interface StateChange {
  /** Where, as keys from the root: `["cards", "c1", "column"]`. */
  path: string[];
  /** Whether the value at `path` appeared, disappeared or changed. */
  kind: "added" | "removed" | "changed";
  /** The value before (absent when `added`). */
  before?: unknown;
  /** The value after (absent when `removed`). */
  after?: unknown;
}

/**
 * What changed in a projection's (or decider's) state between two positions of a stream.
 *
 * @example
 * const changes = await diff(store, boardProjection, "board:1", 10, 20, { snapshots });
 * // [{ path: ["cards", "c7", "column"], kind: "changed", before: "todo", after: "done" }, ...]
 */
export async function diff<State>(
  store: EventStore,
  foldable: Foldable<State>,
  stream: string,
  fromPosition: number,
  toPosition: number,
  options: Omit<LoadStateOptions, "maxPosition"> = {},
): Promise<StateChange[]> {
  const [before, after] = await Promise.all([
    loadState(store, foldable, stream, { ...options, maxPosition: fromPosition }),
    loadState(store, foldable, stream, { ...options, maxPosition: toPosition }),
  ]);
  return diffValues(before.state, after.state);
}

/**
 * Structural differences between two JSON-like values.
 *
 * @example
 * diffValues({ a: 1 }, { a: 2, b: 3 });
 * // [{ path: ["a"], kind: "changed", before: 1, after: 2 }, { path: ["b"], kind: "added", after: 3 }]
 */
export function diffValues(before: unknown, after: unknown, path: string[] = []): StateChange[] {
  if (Object.is(before, after)) return [];
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null;
  if (!isObject(before) || !isObject(after) || Array.isArray(before) !== Array.isArray(after)) {
    return [{ path, kind: "changed", before, after }];
  }
  const changes: StateChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const inBefore = Object.hasOwn(before, key) && before[key] !== undefined;
    const inAfter = Object.hasOwn(after, key) && after[key] !== undefined;
    if (inBefore && !inAfter)
      changes.push({ path: [...path, key], kind: "removed", before: before[key] });
    else if (!inBefore && inAfter)
      changes.push({ path: [...path, key], kind: "added", after: after[key] });
    else if (inBefore && inAfter)
      changes.push(...diffValues(before[key], after[key], [...path, key]));
  }
  return changes;
}

import type { RecordedEvent } from "../events/envelope.ts";
import type { Foldable } from "./foldable.ts";

/**
 * The events a fold skipped because it did not know them (invariant 6): their types, each with
 * the versions seen, e.g. `{ "card.archived": [1], "card.added": [3] }`. Kept in persisted
 * projection records and snapshots so that code which has learned one of them since does not
 * trust them (docs/architecture.md, invariant 11). Never event ids: it stays as small as the
 * app's list of event types.
 */
export type SkippedEvents = Record<string, number[]>;

/**
 * Records in `skipped` an event the fold does not know (its type, or a newer version of it).
 * Returns true when it was skipped. Folds that do not say what they know (no `knows`) skip
 * nothing here.
 *
 * @example
 * const skipped: SkippedEvents = {};
 * for (const event of events) { state = projection.apply(state, event); noteSkipped(projection, event, skipped); }
 */
export function noteSkipped(
  foldable: Pick<Foldable<unknown>, "knows">,
  event: Pick<RecordedEvent, "type" | "version">,
  skipped: SkippedEvents,
): boolean {
  if (foldable.knows === undefined || foldable.knows(event.type, event.version)) return false;
  const versions = skipped[event.type];
  if (versions === undefined) skipped[event.type] = [event.version];
  else if (!versions.includes(event.version)) {
    versions.push(event.version);
    versions.sort((a, b) => a - b);
  }
  return true;
}

/**
 * The skipped `type@version`s this fold knows now: when there are any, a state that skipped
 * them is not what a fresh fold gives, and must be rebuilt.
 *
 * @example
 * if (learnedSkips(projection, record.skipped).length > 0) rebuild();
 */
export function learnedSkips(
  foldable: Pick<Foldable<unknown>, "knows">,
  skipped: SkippedEvents | undefined,
): string[] {
  const learned: string[] = [];
  if (skipped === undefined || foldable.knows === undefined) return learned;
  for (const [type, versions] of Object.entries(skipped)) {
    for (const version of versions) {
      if (foldable.knows(type, version)) learned.push(`${type}@${version}`);
    }
  }
  return learned;
}

/**
 * `skipped` plus every event of `events` the fold does not know (a new object when something
 * was added; `skipped` itself is never changed).
 *
 * @example
 * const next = { ...record, state, checkpoint, skipped: withSkipped(projection, record.skipped, events) };
 */
export function withSkipped(
  foldable: Pick<Foldable<unknown>, "knows">,
  skipped: SkippedEvents | undefined,
  events: readonly Pick<RecordedEvent, "type" | "version">[],
): SkippedEvents | undefined {
  if (foldable.knows === undefined) return skipped;
  let result = skipped;
  for (const event of events) {
    if (foldable.knows(event.type, event.version)) continue;
    if (result?.[event.type]?.includes(event.version)) continue;
    if (result === skipped) result = copySkipped(skipped);
    noteSkipped(foldable, event, result!);
  }
  return result;
}

/**
 * A copy of a skipped set that can be changed freely.
 *
 * @example
 * const mine = copySkipped(snapshot.skipped);
 */
export function copySkipped(skipped: SkippedEvents | undefined): SkippedEvents {
  const copy: SkippedEvents = {};
  for (const [type, versions] of Object.entries(skipped ?? {})) copy[type] = [...versions];
  return copy;
}

/** What {@link skippedField} returns: the `skipped` field of a record or snapshot, or nothing. */
export interface SkippedField {
  /** The skipped types and versions, when there are any. */
  skipped?: SkippedEvents;
}

/**
 * `{ skipped }` when something was skipped, else `{}`: what records and snapshots spread in, so
 * that folds which skipped nothing store no field (exactOptionalPropertyTypes).
 *
 * @example
 * const record = { key, name, version, checkpoint, state, ...skippedField(skipped) };
 */
export function skippedField(skipped: SkippedEvents | undefined): SkippedField {
  return skipped === undefined || Object.keys(skipped).length === 0 ? {} : { skipped };
}

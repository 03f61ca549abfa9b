import { ChronicleError } from "../errors.ts";
import type { RecordedEvent } from "../events/envelope.ts";

/**
 * What deciders and projections have in common: a named, versioned left fold over a stream's
 * events. Snapshots, temporal reads and rebuilds work on any Foldable.
 */
export interface Foldable<State = unknown> {
  /** Which of the two it is. */
  readonly kind: "decider" | "projection";
  /** Names its snapshots and persisted states: unique among the app's folds of the same kind. */
  readonly name: string;
  /** Bump it when the fold changes: persisted states and snapshots of other versions are ignored. */
  readonly version: number;
  /** The state before any event; copied, never mutated (see {@link initialStateOf}). */
  readonly initialState: State;
  /**
   * Applies one stored event: upcasts it to its current version first; events whose type or
   * version this fold does not know leave the state unchanged.
   */
  apply(state: State, event: RecordedEvent): State;
  /**
   * Whether `apply` uses events of this type and version. Events it does not know are skipped,
   * and persisted records and snapshots remember them (type and version), so that a later
   * version of the code that knows them rebuilds instead of trusting a state that missed them.
   * Folds without it are never rebuilt for that reason.
   */
  knows?(type: string, version: number): boolean;
  /** Save a snapshot at least every N events. @default undefined (no snapshots) */
  readonly snapshotEvery?: number | undefined;
}

/**
 * A fresh copy of the initial state (so folds may never share it).
 *
 * @example
 * const empty = initialStateOf(boardDecider);
 */
export function initialStateOf<State>(foldable: Foldable<State>): State {
  return structuredClone(foldable.initialState);
}

/**
 * Folds events into a state. When applying an event throws, a {@link FoldError} (`internal`)
 * names the fold, the event id and its position, and says how many events were applied.
 *
 * @example
 * const state = foldEvents(boardProjection, initialStateOf(boardProjection), events);
 */
export function foldEvents<State>(
  foldable: Foldable<State>,
  state: State,
  events: readonly RecordedEvent[],
): State {
  let index = 0;
  try {
    for (; index < events.length; index++) state = foldable.apply(state, events[index]!);
    return state;
  } catch (error) {
    throw foldError(foldable, events[index]!, error, index);
  }
}

/** The error raised when a fold throws on an event. */
export class FoldError extends ChronicleError {
  /** How many events of the batch were applied before the failing one. */
  readonly applied: number;

  constructor(foldable: Foldable<unknown>, event: RecordedEvent, cause: unknown, applied: number) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      "internal",
      `${foldable.kind} "${foldable.name}" failed on event ${event.id} (${event.type}` +
        `${event.position === undefined ? "" : ` at position ${event.position}`}): ${reason}`,
      {
        cause,
        details: {
          [foldable.kind]: foldable.name,
          eventId: event.id,
          eventType: event.type,
          ...(event.position === undefined ? {} : { position: event.position }),
        },
      },
    );
    this.applied = applied;
  }
}

function foldError(
  foldable: Foldable<unknown>,
  event: RecordedEvent,
  cause: unknown,
  applied: number,
): FoldError {
  return cause instanceof FoldError ? cause : new FoldError(foldable, event, cause, applied);
}

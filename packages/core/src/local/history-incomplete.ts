import { ChronicleError, isChronicleError } from "../errors.ts";

/** The `details.reason` of a `not-found` error for history a device does not hold yet. */
export const historyIncompleteReason = "history-incomplete";

/**
 * The error for a read that needs events below a stream's floor (docs/architecture.md, "The
 * local log"): a device started from the node's snapshots holds floor+1..head and back-fills
 * the rest. `not-found`, with `details` `{ reason: "history-incomplete", stream, floor,
 * needed }` (`needed`: the position the read had to start after).
 *
 * @example
 * if (after < floor) throw historyIncomplete("board:1", floor, after);
 */
export function historyIncomplete(stream: string, floor: number, needed: number): ChronicleError {
  return new ChronicleError(
    "not-found",
    `${stream}: history before position ${floor + 1} is not on this device yet (back-fill in progress); needed from ${needed + 1}`,
    { details: { reason: historyIncompleteReason, stream, floor, needed } },
  );
}

/**
 * Whether an error says that history is not on this device yet (see {@link historyIncomplete}):
 * try again once the back-fill reached it.
 *
 * @example
 * try { await engine.stateAt("board:1", board, { position: 3 }); }
 * catch (error) { if (isHistoryIncomplete(error)) showLoading(); else throw error; }
 */
export function isHistoryIncomplete(error: unknown): boolean {
  return isChronicleError(error, "not-found") && error.details.reason === historyIncompleteReason;
}

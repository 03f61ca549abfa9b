import { ChronicleError } from "../errors.ts";
import type { ConfirmedEvent } from "../events/envelope.ts";

/**
 * Checks a back-fill batch (positions at or below the floor, sorted): gapless, ending at the
 * floor. For LocalLog authors (`@chronicle/core/store`); every LocalLog checks back-fills alike.
 */
export function checkBackfill(
  stream: string,
  floor: number,
  below: readonly ConfirmedEvent[],
): void {
  const last = below[below.length - 1]!.position;
  const gapless = below.every((event, index) => event.position === below[0]!.position + index);
  if (last !== floor || !gapless || below[0]!.position < 1) {
    throw new ChronicleError(
      "protocol",
      `${stream}: back-filled events must be gapless and end at the floor ${floor}`,
      { details: { stream, floor, first: below[0]!.position, last } },
    );
  }
}

// internal: not exported. A fold over a stream's confirmed log as the device holds it: from the
// first event, or, on a device started from the node's snapshots (docs/architecture.md,
// "Snapshots for new devices"), from the start snapshot of the same fold and version at the
// floor. A fold that needs events below the floor (a position under it, or a fold with no start
// snapshot) fails with `not-found` / `history-incomplete` until the back-fill reaches them.
import {
  type Foldable,
  foldEvents,
  historyIncomplete,
  initialStateOf,
  type LocalLog,
} from "@chronicle/core";
import { snapshotKey } from "@chronicle/core/store";

/** A fold's state and the last position folded into it. */
export interface FoldedState {
  state: unknown;
  position: number;
}

/** Where a fold starts: its start snapshot when it has one, else the first event (floor 0). */
export async function startOf(
  local: LocalLog,
  stream: string,
  foldable: Foldable,
  atOrBelow = Number.POSITIVE_INFINITY,
): Promise<FoldedState> {
  const floor = await local.confirmedFloor(stream);
  if (atOrBelow < floor) throw historyIncomplete(stream, floor, atOrBelow);
  const key = snapshotKey(foldable.kind, foldable.name, stream);
  const snapshot = (await local.readStartSnapshots(stream)).find(
    (s) => s.key === key && s.version === foldable.version && s.position <= atOrBelow,
  );
  if (snapshot) return { state: snapshot.state, position: snapshot.position };
  if (floor > 0) throw historyIncomplete(stream, floor, 0);
  return { state: initialStateOf(foldable), position: 0 };
}

/** Folds confirmed events after `from` onto its state, up to `upTo` (the head by default). */
export async function foldConfirmed(
  local: LocalLog,
  stream: string,
  foldable: Foldable,
  from: FoldedState,
  upTo = Number.POSITIVE_INFINITY,
): Promise<FoldedState> {
  let { state, position } = from;
  const pageSize = 1000;
  while (position < upTo) {
    const limit = Math.min(pageSize, upTo - position);
    const page = await local.readConfirmed(stream, position, limit);
    if (page.length === 0) break;
    state = foldEvents(foldable, state, page);
    position = page[page.length - 1]!.position;
    if (page.length < limit) break;
  }
  return { state, position };
}

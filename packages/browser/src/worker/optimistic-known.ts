// internal: not exported. A synced command on the stream's kept view (optimistic.ts calls it
// first): the command is decided on the kept decider state, the concerned projections' records
// are folded from their kept states, and the pending rows are written in a transaction of raw
// IndexedDB requests that commits only if the stream is still as the view describes it, without
// reading anything. The ordinary path (executePending) pays a Dexie transaction, a round trip
// for its probe before its writes, and answers only after the commit; this one answers while
// IndexedDB commits, as the local known-state path does (execute-local.ts).
// Invariants:
// 1. The transaction, over `pending` and `stamps`, first writes the stream's stamp as the view
//    saw it (stream-stamps.ts, checkStamp: the same row again when the stamp is this engine's,
//    a swap for one of its own when it is no engine's), then adds the rows, and is committed as
//    soon as they are issued. Every other writer of the stream's pending rows, confirmed events
//    or sync state replaces its stamp (schema.ts, invariant 5), and this engine's own writes
//    under its stamp extend the view, so the stamp write, and with it the whole transaction,
//    fails unless the stream is still as the view describes it: IndexedDB enforces the check;
//    nothing waits for a read.
// 2. The result holds if the stamp write succeeds. `early` gets it as soon as the requests are
//    issued, so that posting it to the main thread overlaps IndexedDB's work; the main thread
//    shows it only on `committed`, which the engine sends only for the attempt that committed
//    (a failed attempt's retry or the ordinary path answers again, replacing it). While the
//    stream's kept views went stale lately with events pending (acknowledgements arriving under
//    clicks in quick succession: optimistic-states.ts, `speculates`), it gets it once the stamp
//    write succeeded instead, not cloned for nothing. A commit that fails after the stamp write
//    succeeded rejects: the command did not happen.
// 3. Only when nothing else is needed: a decider snapshot due, a state or record not kept, a
//    view under another engine's stamp (that engine may have written under it without replacing
//    it), a decide that throws or writes nothing (its verdict on a state that may be stale is
//    not reported), tables with Dexie hooks (which raw requests would bypass), no open database:
//    undefined, and the ordinary path runs (and leaves a stamp of this engine's).
// 4. The view and states move only after the commit, as on the ordinary path; the view then
//    holds the stamp this commit wrote (optimistic-states.ts, invariant 7).
// 5. A stamp write that failed (most often: the node acknowledged earlier commands meanwhile)
//    wrote nothing; the view is brought up to date (rebased in memory when only confirmed events
//    moved it: optimistic-states.ts, invariant 5) and the command tried on it again, at most
//    twice, before it runs the ordinary way.
import {
  assertExactJson,
  type CommandContext,
  type ConfirmedEvent,
  type Decider,
  type Projection,
  type ProjectionRecord,
  type RecordedEvent,
} from "@chronicle/core";
import { decideEvents, skippedField, validateBatch, withSkipped } from "@chronicle/core/store";
import type { EarlyAnswer, ExecuteResult } from "../shared/host-api.ts";
import { withoutHooks } from "../store/raw-requests.ts";
import type { PendingCommandRow, PendingRow } from "../store/schema.ts";
import { toStorageError } from "../store/storage-errors.ts";
import { checkStamp, mayCheck } from "../store/stream-stamps.ts";
import { type DeciderState, deciderSnapshotEvery, deciderTypes } from "./decider-states.ts";
import type { OptimisticDeps, OptimisticRecord } from "./optimistic.ts";
import { asPending, type FoldedState, type PendingView } from "./optimistic-states.ts";

/** Moves a decider's confirmed state over confirmed events (a view rebased in memory). */
export const moveDecider =
  (decider: Decider<any, any, any>) =>
  (base: DeciderState, state: unknown, events: readonly ConfirmedEvent[]): DeciderState => ({
    state,
    position: events.at(-1)?.position ?? base.position,
    snapshotPosition: base.snapshotPosition,
    lastId: events.at(-1)?.id ?? base.lastId,
    ...skippedField(withSkipped(decider, base.skipped, events)),
  });

/** Moves a projection record over confirmed events (a view rebased in memory). */
export const moveRecord = (
  base: ProjectionRecord,
  state: unknown,
  events: readonly ConfirmedEvent[],
): ProjectionRecord => ({ ...base, state, checkpoint: events.at(-1)?.position ?? base.checkpoint });

/** The projections a decider's events move (by their handlers' event types). */
export function concernedBy(
  projections: readonly Projection<any, any>[],
  types: ReadonlySet<string>,
): Projection<any, any>[] {
  return projections.filter((projection) =>
    Object.keys(projection.handlers as object).some((type) => types.has(type)),
  );
}

/**
 * Runs one synced command on the kept view (see the invariants above); undefined when it
 * cannot, and "stale" when the view no longer matched the log, nothing written either way (the
 * caller then tries again on a view brought up to date, or runs it the ordinary way).
 */
export async function executeKnownPending(
  deps: OptimisticDeps,
  projections: readonly Projection<any, any>[],
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  context: CommandContext & { commandId: string },
  strict: boolean,
  early: EarlyAnswer | undefined,
): Promise<ExecuteResult | "stale" | undefined> {
  const db = deps.local.store.db;
  const view = deps.states.keptView(stream);
  if (
    !view ||
    !mayCheck(view.stamp, deps.states.owner) ||
    !withoutHooks(db, ["pending", "stamps"])
  ) {
    return undefined;
  }
  const decided = deps.states.kept(decider, view, moveDecider(decider));
  if (!decided) return undefined;
  const { base } = decided;
  if (base.position - base.snapshotPosition >= deciderSnapshotEvery(decider)) return undefined;
  let events: RecordedEvent[];
  const folds: Array<[Projection<any, any>, FoldedState<ProjectionRecord>]> = [];
  try {
    deps.states.catchUp(decider, view, decided);
    events = decideEvents(decider, stream, command, decided.state, context).map(asPending);
    if (events.length === 0) return undefined;
    assertExactJson(events, "events");
    validateBatch(stream, events);
    for (const projection of concernedBy(projections, new Set(deciderTypes(decider)))) {
      const folded = deps.states.kept(projection, view, moveRecord);
      if (!folded) return undefined;
      folds.push([projection, deps.states.catchUp(projection, view, folded, events)]);
    }
  } catch {
    return undefined;
  }
  const stored: PendingCommandRow = {
    id: context.commandId,
    decider: decider.name,
    payload: command,
    strict,
    basePosition: view.head,
  };
  const rows: PendingRow[] = events.map((event) => ({
    id: event.id,
    stream,
    event,
    command: stored,
  }));
  let transaction: IDBTransaction;
  try {
    transaction = db.backendDB().transaction(["pending", "stamps"], "readwrite");
  } catch {
    return undefined; // not open (closing, or not opened yet): the ordinary path opens it
  }
  const written = writeChecked(
    transaction,
    view,
    deps.states.owner,
    view.events.length === 0 || deps.states.speculates(stream),
    rows,
    () => {
      // Final if the stamp holds (invariant 1). The revision is taken inside the transaction, so
      // a read that starts later orders after these records and sees the rows.
      const revision = deps.nextRevision();
      const records: OptimisticRecord[] = folds.map(([, folded]) => ({
        ...folded.base,
        checkpoint: view.head,
        state: folded.state,
        revision,
        pending: folded.folded,
      }));
      return { events, head: view.head, projections: records, pending: true };
    },
    early,
  );
  // While IndexedDB works (its requests are issued): the decider's state after these events,
  // kept once they have committed (so the answer does not wait for this fold).
  let after: FoldedState<DeciderState> | undefined;
  try {
    after = deps.states.catchUp(decider, view, decided, events);
  } catch {
    // The decider fails on its own events: the next command folds them again, and says so.
  }
  const outcome = await written;
  if (outcome === "stale") return "stale";
  if (outcome === "unavailable") return undefined;
  const { result, lastLocalSeq, stamp } = outcome;
  // Invariant 4: committed; the view grows by these rows when nothing else changed meanwhile.
  const current = deps.states.extend(
    view,
    events,
    events.map(() => stored),
    lastLocalSeq,
    stamp,
  );
  deps.deciderStates.remember(decider, stream, base);
  if (current) {
    if (after) deps.states.keep(decider, stream, after);
    for (const [projection, folded] of folds) deps.states.keep(projection, stream, folded);
  }
  deps.local.store.announce({
    streams: [stream],
    records: result.projections,
    pending: true,
  });
  return result;
}

type Written =
  | { result: ExecuteResult; lastLocalSeq: number; stamp: string }
  | "stale"
  | "unavailable";

// Invariants 1 and 2: the stamp checked, then the rows, committed at once; the early answer
// leaves once the requests are issued, or once the stamp held.
function writeChecked(
  transaction: IDBTransaction,
  view: PendingView,
  owner: string,
  speculate: boolean,
  rows: readonly PendingRow[],
  resultOf: () => ExecuteResult,
  early: EarlyAnswer | undefined,
): Promise<Written> {
  const stream = view.stream;
  return new Promise((resolve, reject) => {
    let result: ExecuteResult;
    let stamp: string | undefined;
    let lastLocalSeq: number | undefined;
    let matched = false;
    let committed: ReturnType<EarlyAnswer> | undefined;
    transaction.oncomplete = () => {
      if (matched && stamp !== undefined && lastLocalSeq !== undefined) {
        committed?.();
        resolve({ result, lastLocalSeq, stamp });
      } else reject(toStorageError(new Error("committed unchecked"), `execute on ${stream}`));
    };
    transaction.onabort = () => {
      // The stamp did not hold (a stale view, or a write refused before it): the ordinary path
      // runs and says what happens. It held: the command did not commit.
      if (!matched) resolve("stale");
      else reject(toStorageError(transaction.error, `execute on ${stream}`));
    };
    try {
      const checked = checkStamp(transaction, stream, view.stamp, owner);
      if (!checked) throw new Error("another engine's stamp"); // nothing issued: aborted below
      const pending = transaction.objectStore("pending");
      const adds = rows.map((row) => pending.add(row));
      // The records are final if the stamp holds. The revision is taken once the requests are
      // issued, so a read that starts later orders after these records and sees the rows.
      result = resultOf();
      // Without waiting for any result: the browser commits once every request succeeded.
      if (typeof transaction.commit === "function") transaction.commit();
      checked.request.onsuccess = () => {
        matched = true;
        stamp = checked.stamp;
        if (!speculate) committed = early?.(result);
      };
      adds.at(-1)!.onsuccess = (event) => {
        lastLocalSeq = (event.target as IDBRequest<IDBValidKey>).result as number;
      };
      // Posted while IndexedDB commits (the main thread shows it only once committed; a later
      // answer replaces it when the stamp did not hold).
      if (speculate) committed = early?.(result);
    } catch {
      // Another engine's stamp, a value that cannot be cloned, or a refused request: nothing may
      // commit.
      transaction.onabort = null;
      try {
        transaction.abort();
      } catch {
        // Already finished: it cannot have committed, a request having failed.
      }
      resolve("unavailable");
    }
  });
}

// internal: not exported. A synced command on the stream's kept view (optimistic.ts calls it
// first): the command is decided on the kept decider state, the concerned projections' records
// are folded from their kept states, and the pending rows are written in a transaction of raw
// IndexedDB requests that checks the view as the ordinary path does, without waiting for the
// check before issuing the writes. The ordinary path (executePending) pays a Dexie transaction,
// a round trip for its probe before its writes, and answers only after the commit; this one
// answers while IndexedDB commits, as the local known-state path does (execute-local.ts).
// Invariants:
// 1. The probe (the stream's head and its event id, the last pending key, the epoch: optimistic-
//    states.ts, invariant 2) is issued first, the rows right after it, in one transaction over
//    `events`, `pending` and `meta`: IndexedDB runs a transaction's requests in order, so the
//    probe sees the stream as it was before the rows. The transaction commits only when the probe
//    matched the view the command was decided on; otherwise it aborts whole and the command runs
//    the ordinary way (nothing was reported).
// 2. The result holds if the probe matches. With nothing pending in the view, `early` gets it as
//    soon as the requests are issued, so that posting it to the main thread overlaps IndexedDB's
//    work (the main thread shows it only on `committed`; a stale probe's retry or the ordinary
//    path answers again, replacing it). With events pending, an acknowledgement may move the view
//    meanwhile (clicks back to back): `early` gets it once the probe matched, not cloned for
//    nothing. A commit that fails after the probe matched rejects: the command did not happen.
// 3. Only when nothing else is needed: a decider snapshot due, a state or record not kept, a
//    decide that throws or writes nothing (its verdict on a state that may be stale is not
//    reported), tables with Dexie hooks (which raw requests would bypass), no open database:
//    undefined, and the ordinary path runs.
// 4. The view and states move only after the commit, as on the ordinary path.
// 5. A probe that did not match (most often: the node acknowledged earlier commands meanwhile)
//    wrote nothing; the view is brought up to date (rebased in memory when only confirmed
//    events moved it: optimistic-states.ts, invariant 5) and the command tried on it again, at
//    most twice, before it runs the ordinary way.
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
import type { PendingCommandRow, PendingRow, StreamSyncState } from "../store/schema.ts";
import { toStorageError } from "../store/storage-errors.ts";
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
  if (!view || !withoutHooks(db, ["events", "pending", "meta"])) return undefined;
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
    transaction = db.backendDB().transaction(["events", "pending", "meta"], "readwrite");
  } catch {
    return undefined; // not open (closing, or not opened yet): the ordinary path opens it
  }
  const keyRange = (db as unknown as { _deps?: { IDBKeyRange?: typeof IDBKeyRange } })._deps
    ?.IDBKeyRange;
  const written = writeChecked(
    transaction,
    keyRange ?? IDBKeyRange,
    view,
    rows,
    () => {
      // Invariant 1 held: the records are final. The revision is taken inside the transaction, so
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
  const { result, lastLocalSeq } = outcome;
  // Invariant 4: committed; the view grows by these rows when nothing else changed meanwhile.
  const current = deps.states.extend(
    view,
    events,
    events.map(() => stored),
    lastLocalSeq,
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

type Written = { result: ExecuteResult; lastLocalSeq: number } | "stale" | "unavailable";

// Invariants 1 and 2: the probe, then the rows, then the check; commit or abort. The early answer
// leaves before the check or once it matched (invariant 2).
function writeChecked(
  transaction: IDBTransaction,
  keyRange: typeof IDBKeyRange,
  view: PendingView,
  rows: readonly PendingRow[],
  resultOf: () => ExecuteResult,
  early: EarlyAnswer | undefined,
): Promise<Written> {
  const stream = view.stream;
  // With nothing pending, no acknowledgement of this device's events can move the view under the
  // check (another device's events seldom do): the answer is posted before the check. With events
  // pending, an acknowledgement may (clicks back to back): posted once the check matched.
  const speculate = view.events.length === 0;
  return new Promise((resolve, reject) => {
    let result: ExecuteResult;
    let lastLocalSeq: number | undefined;
    let checked = false;
    let matched = false;
    let committed: ReturnType<EarlyAnswer> | undefined;
    transaction.oncomplete = () => {
      if (matched && lastLocalSeq !== undefined) {
        committed?.();
        resolve({ result, lastLocalSeq });
      } else reject(toStorageError(new Error("committed unchecked"), `execute on ${stream}`));
    };
    transaction.onabort = () => {
      // Not matched (a stale view, or a write refused before the check): the ordinary path runs
      // and says what happens. Matched: the command did not commit.
      if (!matched) resolve("stale");
      else reject(toStorageError(transaction.error, `execute on ${stream}`));
    };
    try {
      const range = keyRange.bound([stream, -Infinity], [stream, Infinity]);
      const events = transaction.objectStore("events");
      const pending = transaction.objectStore("pending");
      const head = events.index("[stream+position]").openKeyCursor(range, "prev");
      const last = pending.index("[stream+localSeq]").openKeyCursor(range, "prev");
      const meta = transaction.objectStore("meta").get(`stream/${stream}`);
      const adds = rows.map((row) => pending.add(row));
      // The records are final if the probe matches. The revision is taken once the requests are
      // issued, so a read that starts later orders after these records and sees the rows.
      result = resultOf();
      const check = () => {
        if (checked || [head, last, meta].some((request) => request.readyState !== "done")) return;
        checked = true;
        const headKey = head.result?.key as [string, number] | undefined;
        const headId = (head.result?.primaryKey as [string, string] | undefined)?.[1];
        const state = (meta.result as { value?: StreamSyncState } | undefined)?.value;
        matched =
          (headKey?.[1] ?? 0) === view.head &&
          headId === view.lastId &&
          state?.epoch === view.epoch &&
          (last.result?.primaryKey as number | undefined) === view.lastLocalSeq;
        if (!matched) {
          transaction.abort();
          return;
        }
        // Without waiting for the rows' results: the browser commits once they succeed.
        if (typeof transaction.commit === "function") transaction.commit();
        if (!speculate) committed = early?.(result);
      };
      head.onsuccess = check;
      last.onsuccess = check;
      meta.onsuccess = check;
      adds.at(-1)!.onsuccess = (event) => {
        lastLocalSeq = (event.target as IDBRequest<IDBValidKey>).result as number;
      };
      // Posted while IndexedDB probes and commits (the main thread shows it only once committed;
      // a later answer replaces it when the probe does not match).
      if (speculate) committed = early?.(result);
    } catch {
      // A value that cannot be cloned, or a refused request: nothing may commit.
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

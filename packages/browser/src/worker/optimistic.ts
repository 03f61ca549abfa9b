// internal: not exported. Commands and projection reads when a sync engine is configured: the
// node assigns positions, so a command's events are stored as pending (with the command), and
// what the app sees is the optimistic state, fold(confirmed) then pending in local order, kept
// incrementally (optimistic-states.ts): a command folds only its own events, and the states
// are folded again only when the log changed underneath (a rebase).
// Records carry a `revision` (this worker's order of reads and commits) because the confirmed
// checkpoint no longer orders them: a pending write changes the state without moving it.
import {
  type AppendOptions,
  type AppendResult,
  assertExactJson,
  ChronicleError,
  type CommandContext,
  type Decider,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type RecordedEvent,
  type SnapshotStore,
} from "@chronicle/core";
import { decideEvents, validateBatch } from "@chronicle/core/store";
import type { EarlyAnswer, ExecuteResult } from "../shared/host-api.ts";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { StreamPosition } from "../store/log-queries.ts";
import type { PendingCommandRow, PendingRow } from "../store/schema.ts";
import { restamp } from "../store/stream-stamps.ts";
import type { CommandOutcome } from "./command-queue.ts";
import {
  type DeciderState,
  type DeciderStates,
  deciderTypes,
  snapshotIfDue,
} from "./decider-states.ts";
import { concernedBy, executeKnownPending, moveDecider, moveRecord } from "./optimistic-known.ts";
import {
  asPending,
  type FoldedState,
  type OptimisticStates,
  type PendingView,
} from "./optimistic-states.ts";

/** A projection record with the pending events folded in. */
export interface OptimisticRecord extends ProjectionRecord {
  /** This worker's order of records: a higher one is newer, whatever the checkpoints. */
  revision: number;
  /** Pending events folded after the checkpoint. */
  pending: number;
}

export interface OptimisticDeps {
  local: DexieLocalLog;
  runner: ProjectionRunner;
  deciderStates: DeciderStates;
  /** The views and states kept incrementally. */
  states: OptimisticStates;
  snapshots: SnapshotStore;
  /** The next revision (increasing). */
  nextRevision: () => number;
}

/** A command waiting to be decided with sync (see {@link executeSyncedBatch}). */
export interface SyncedCommand {
  decider: Decider<any, any, any>;
  command: unknown;
  context: CommandContext & { commandId: string };
  strict: boolean;
}

// A read-only transaction over what a view is checked and read from: a consistent moment.
const readView = (deps: OptimisticDeps, stream: string) => deps.states.current(stream);

/**
 * A projection's optimistic record: the kept state caught up with the stream's pending events
 * when the log did not change underneath, else the persisted (confirmed) record caught up, then
 * the pending events (a rebase), read again when a confirmation moved the head meanwhile, so the
 * record never misses or doubles an event that moved from pending to confirmed.
 */
export async function readOptimistic(
  deps: OptimisticDeps,
  projection: Projection<any, any>,
  stream: string,
  revision = deps.nextRevision(),
  known?: PendingView,
): Promise<OptimisticRecord> {
  const { view } = known ? { view: known } : await readView(deps, stream);
  const kept = deps.states.kept(projection, view, moveRecord);
  if (kept) return recordOf(deps, projection, view, kept, revision);
  let last: OptimisticRecord | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await readView(deps, stream);
    const record = await deps.runner.catchUp(projection, stream);
    const { view } = await readView(deps, stream);
    const folded = deps.states.rebased(view, record, record.state);
    const consistent =
      record.checkpoint === view.head &&
      before.view.head === view.head &&
      before.view.epoch === view.epoch;
    if (consistent) return recordOf(deps, projection, view, folded, revision);
    deps.states.catchUp(projection, view, folded);
    last = { ...record, state: folded.state, revision, pending: view.events.length };
  }
  return last!;
}

// The record of a projection's state, kept for the next read or command.
function recordOf(
  deps: OptimisticDeps,
  projection: Projection<any, any>,
  view: PendingView,
  folded: FoldedState<ProjectionRecord>,
  revision: number,
): OptimisticRecord {
  deps.states.catchUp(projection, view, folded);
  deps.states.keep(projection, view.stream, folded);
  return {
    ...folded.base,
    checkpoint: view.head,
    state: folded.state,
    revision,
    pending: folded.folded,
  };
}

// The decider's kept state over the view, or its confirmed state (cached, or snapshot + tail)
// with the view's events to fold (a rebase). In the caller's transaction.
async function deciderState(
  deps: OptimisticDeps,
  decider: Decider<any, any, any>,
  view: PendingView,
  position: StreamPosition,
): Promise<FoldedState<DeciderState>> {
  // The confirmed state is persisted as a snapshot when due (the decider-states header).
  const kept = deps.states.kept(decider, view, moveDecider(decider));
  if (kept) {
    kept.base = await snapshotIfDue(deps.snapshots, decider, view.stream, kept.base);
    return kept;
  }
  const store = deps.local.store;
  const loaded = await deps.deciderStates.load(
    store,
    decider,
    view.stream,
    position,
    deps.snapshots,
  );
  const base = await snapshotIfDue(deps.snapshots, decider, view.stream, loaded);
  return deps.states.rebased(view, base, base.state);
}

/**
 * The optimistic state a command of `decider` on `stream` is decided on now.
 *
 * @internal For this package's tests.
 */
export async function readDeciderState(
  deps: OptimisticDeps,
  decider: Decider<any, any, any>,
  stream: string,
): Promise<unknown> {
  const { view, folded } = await deps.local.store.transaction(async () => {
    const { view, probe } = await deps.states.view(stream);
    const folded = await deciderState(deps, decider, view, probe.position);
    deps.states.catchUp(decider, view, folded);
    return { view, folded };
  }, `read the state of ${decider.name} on ${stream}`);
  deps.deciderStates.remember(decider, stream, folded.base);
  deps.states.keep(decider, view.stream, folded);
  return folded.state;
}

/**
 * Decides commands of one stream on the optimistic state, one after the other (each on the
 * state the previous ones left), and stores their events as pending with their commands, in
 * one transaction. A command that `decide` refuses (or whose events are invalid) is refused
 * alone; a failed transaction fails them all (the caller then runs them one by one).
 */
async function executePending(
  deps: OptimisticDeps,
  stream: string,
  commands: readonly SyncedCommand[],
) {
  const { local } = deps;
  const store = local.store;
  const decided: Array<{ events: RecordedEvent[] } | { error: unknown }> = [];
  const working = new Map<Decider<any, any, any>, FoldedState<DeciderState>>();
  const added: RecordedEvent[] = [];
  const addedCommands: PendingCommandRow[] = [];
  const { view, written } = await store.transaction(
    async () => {
      const { view, probe } = await deps.states.view(stream);
      const rows: PendingRow[] = [];
      for (const { decider, command, context, strict } of commands) {
        let folded = working.get(decider);
        if (!folded) {
          folded = await deciderState(deps, decider, view, probe.position);
          working.set(decider, folded);
        }
        deps.states.catchUp(decider, view, folded, added);
        let events: RecordedEvent[];
        try {
          events = decideEvents(decider, stream, command, folded.state, context).map(asPending);
          assertExactJson(events, "events");
        } catch (error) {
          decided.push({ error });
          continue;
        }
        const stored = {
          id: context.commandId,
          decider: decider.name,
          payload: command,
          strict,
          basePosition: view.head,
        };
        for (const event of events) {
          rows.push({ id: event.id, stream, event, command: stored });
          addedCommands.push(stored);
        }
        added.push(...events);
        decided.push({ events });
      }
      if (rows.length === 0) return { view, written: undefined };
      validateBatch(stream, added);
      const lastLocalSeq = (await store.db.pending.bulkAdd(rows)) as number;
      const stamp = await restamp(store.db, stream, deps.states.owner);
      return { view, written: { lastLocalSeq, stamp } };
    },
    `execute ${commands.length === 1 ? commands[0]!.decider.name : `${commands.length} commands`} on ${stream}`,
  );
  // Committed: the view grows by the rows just added (when nothing else changed meanwhile).
  const current =
    written === undefined ||
    deps.states.extend(view, added, addedCommands, written.lastLocalSeq, written.stamp);
  for (const [decider, folded] of working) {
    deps.deciderStates.remember(decider, stream, folded.base);
    if (!current) continue;
    try {
      deps.states.catchUp(decider, view, folded);
      deps.states.keep(decider, stream, folded);
    } catch {
      // The decider fails on its own events: the next command folds them again, and says so.
    }
  }
  return { decided, view, current };
}

/**
 * Commands with sync: decided on the optimistic state and stored as pending (see
 * executePending), then announced to every tab (and to the leader's engine, which pushes them),
 * with the optimistic records of the projections their event types move. Each command's
 * outcome is known only after the transaction committed.
 */
export async function executeSyncedBatch(
  deps: OptimisticDeps,
  projections: readonly Projection<any, any>[],
  stream: string,
  commands: readonly SyncedCommand[],
): Promise<CommandOutcome[]> {
  const { decided, view, current } = await executePending(deps, stream, commands);
  // Taken at once: a read that starts after this commit must order after these records.
  const revision = deps.nextRevision();
  const head = view.head;
  const types = new Set<string>();
  commands.forEach((item, index) => {
    const outcome = decided[index];
    if (outcome && "events" in outcome && outcome.events.length > 0) {
      for (const type of deciderTypes(item.decider)) types.add(type);
    }
  });
  let records: OptimisticRecord[] = [];
  if (types.size > 0) {
    const concerned = concernedBy(projections, types);
    records = await Promise.all(
      concerned.map((projection) =>
        readOptimistic(deps, projection, stream, revision, current ? view : undefined),
      ),
    );
    deps.local.store.announce({ streams: [stream], records, pending: true });
  }
  return decided.map((outcome) =>
    "error" in outcome
      ? outcome
      : {
          result:
            outcome.events.length === 0
              ? { events: [], head, projections: [] }
              : { events: outcome.events, head, projections: records, pending: true },
        },
  );
}

/** How many times a command is tried again on a view brought up to date (optimistic-known.ts). */
const staleRetries = 2;

/**
 * One command with sync: on the stream's kept view when it can (optimistic-known.ts; `early`
 * then gets the result while IndexedDB commits), else see {@link executeSyncedBatch}; rejects
 * when it is refused.
 */
export async function executeSynced(
  deps: OptimisticDeps,
  projections: readonly Projection<any, any>[],
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  context: CommandContext & { commandId: string },
  strict: boolean,
  early?: EarlyAnswer,
): Promise<ExecuteResult> {
  for (let attempt = 0; ; attempt++) {
    const known = await executeKnownPending(
      deps,
      projections,
      decider,
      stream,
      command,
      context,
      strict,
      early,
    );
    if (known !== undefined) deps.states.wrote(stream, known === "stale");
    if (known === "stale" && attempt < staleRetries) {
      // optimistic-known.ts, invariant 5: again on the view brought up to date.
      await deps.states.current(stream);
      continue;
    }
    if (known === undefined || known === "stale") break;
    deps.states.stats.knownCommands++;
    return known;
  }
  const [outcome] = await executeSyncedBatch(deps, projections, stream, [
    { decider, command, context, strict },
  ]);
  if (!outcome || "error" in outcome) throw outcome?.error;
  return outcome.result;
}

/**
 * `append` with sync: the events are stored as pending (no command) and pushed by the leader.
 * An expected version cannot hold (the node orders them): only `"any"` is accepted.
 */
export async function appendPending(
  local: DexieLocalLog,
  stream: string,
  events: readonly RecordedEvent[],
  options: AppendOptions,
): Promise<AppendResult> {
  if ((options.expectedVersion ?? "any") !== "any") {
    throw new ChronicleError(
      "validation",
      "with sync, appends are ordered by the node: expectedVersion must be 'any' (use a strict command)",
      { details: { path: "expectedVersion" } },
    );
  }
  await local.addPending(stream, events);
  local.store.announce({ streams: [stream], pending: true });
  return { results: [], head: await local.store.head(stream) };
}

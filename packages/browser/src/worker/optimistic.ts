// internal: not exported. Commands and projection reads when a sync engine is configured: the
// node assigns positions, so a command's events are stored as pending (with the command), and
// what the app sees is the optimistic state, fold(confirmed) then pending in local order.
// Records carry a `revision` (this worker's order of reads and commits) because the confirmed
// checkpoint no longer orders them: a pending write changes the state without moving it.
import {
  type AppendOptions,
  type AppendResult,
  ChronicleError,
  type CommandContext,
  type Decider,
  foldEvents,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type RecordedEvent,
  type SnapshotStore,
} from "@chronicle/core";
import { decideEvents } from "@chronicle/core/store";
import type { ExecuteResult } from "../shared/host-api.ts";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import { allRequests } from "../store/storage-errors.ts";
import { type DeciderState, type DeciderStates, deciderTypes } from "./decider-states.ts";

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
  snapshots: SnapshotStore;
  /** The next revision (increasing). */
  nextRevision: () => number;
}

/**
 * A projection's optimistic record: the persisted (confirmed) record caught up, then the
 * stream's pending events. Read again when a confirmation moved the head meanwhile, so the
 * record never misses or doubles an event that moved from pending to confirmed.
 */
export async function readOptimistic(
  deps: OptimisticDeps,
  projection: Projection<any, any>,
  stream: string,
): Promise<OptimisticRecord> {
  const revision = deps.nextRevision();
  for (let attempt = 0; ; attempt++) {
    const before = await deps.local.confirmedHead(stream);
    const record = await deps.runner.catchUp(projection, stream);
    const pending = await deps.local.tables.pending(stream);
    if (attempt < 5 && (await deps.local.confirmedHead(stream)) !== before) continue;
    const events = pending.map((row) => row.event);
    const state =
      events.length === 0
        ? record.state
        : foldEvents(projection, structuredClone(record.state), events);
    return { ...record, state, revision, pending: events.length };
  }
}

/**
 * Decides a command on the optimistic state and stores its events as pending with the command,
 * in one transaction. Returns the events and the confirmed decider state it started from (to
 * remember once committed).
 */
export async function executePending(
  deps: OptimisticDeps,
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  context: CommandContext & { commandId: string },
  strict: boolean,
): Promise<{ events: RecordedEvent[]; head: number; confirmed: DeciderState }> {
  const { local } = deps;
  return local.store.transaction(async () => {
    const [position, pending] = await allRequests([
      local.store.position(stream),
      local.tables.pending(stream),
    ]);
    const confirmed = await deps.deciderStates.load(
      local.store,
      decider,
      stream,
      position,
      deps.snapshots,
    );
    const state = foldEvents(
      decider,
      structuredClone(confirmed.state),
      pending.map((row) => row.event),
    );
    const events = decideEvents(decider, stream, command, state, context);
    await local.addPending(stream, events, {
      id: context.commandId,
      decider: decider.name,
      command,
      strict,
      basePosition: confirmed.position,
    });
    return { events, head: confirmed.position, confirmed };
  }, `execute ${decider.name} on ${stream}`);
}

/**
 * A command with sync: decided on the optimistic state and stored as pending (see
 * executePending), then announced to every tab (and to the leader's engine, which pushes it),
 * with the optimistic records of the projections its event types move.
 */
export async function executeSynced(
  deps: OptimisticDeps,
  projections: readonly Projection<any, any>[],
  decider: Decider<any, any, any>,
  stream: string,
  command: unknown,
  context: CommandContext & { commandId: string },
  strict: boolean,
): Promise<ExecuteResult> {
  const written = await executePending(deps, decider, stream, command, context, strict);
  deps.deciderStates.remember(decider, stream, written.confirmed);
  if (written.events.length === 0) return { events: [], head: written.head, projections: [] };
  const types = deciderTypes(decider);
  const concerned = projections.filter((projection) =>
    Object.keys(projection.handlers as object).some((type) => types.has(type)),
  );
  const records = await Promise.all(
    concerned.map((projection) => readOptimistic(deps, projection, stream)),
  );
  deps.local.store.announce({ streams: [stream], records, pending: true });
  return { events: written.events, head: written.head, projections: records, pending: true };
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

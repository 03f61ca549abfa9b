// internal: not exported. Commands and projection reads when a sync engine is configured: the
// node assigns positions, so a command's events are stored as pending (with the command), and
// what the app sees is the optimistic state, fold(confirmed) then pending in local order.
// Records carry a `revision` (this worker's order of reads and commits) because the confirmed
// checkpoint no longer orders them: a pending write changes the state without moving it.
import {
  type CommandContext,
  type Decider,
  decideEvents,
  foldEvents,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  type RecordedEvent,
  type SnapshotStore,
} from "@chronicle/core";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import { allRequests } from "../store/storage-errors.ts";
import type { DeciderState, DeciderStates } from "./decider-states.ts";

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

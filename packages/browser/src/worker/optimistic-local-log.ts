// internal: not exported. The LocalLog the worker hands its sync engine: the worker's log
// (OrderedLocalLog), except that the pending list is answered from the optimistic states' view
// of the stream (optimistic-states.ts) when it still holds, instead of reading every pending
// row. The sync engine asks for the pending list after every local write (to count it for the
// status, and to build the next push): read from the table, that is O(pending) IndexedDB reads
// and clones per command, the cost that grew with a long offline session.
// 1. A view is used only after the probe of its own read-only transaction (the stream's head,
//    epoch and last pending key: three index lookups) matched it (optimistic-states.ts,
//    invariant 2), so the answer is what reading the table in that transaction would give.
// 2. The answer is a new array each time: the engine may keep it while the view grows.
// 3. A back-fill may remove pending rows without moving the head or the last key (an event of
//    ours confirmed below the floor): the stream's view is forgotten after one.
// 4. Reads of one stream asked for in the same synchronous run (the sync engine's status asks
//    for the pending list and the confirmed head together) share one transaction: the head is
//    the probe's (with the floor). The shared read is forgotten once that run is over, so a read
//    asked for after a write the caller awaited starts a transaction after it.
import type {
  ConfirmedEvent,
  ConfirmedStart,
  LocalLog,
  PendingCommand,
  PendingEvent,
  RecordedEvent,
  Snapshot,
  StreamSyncMeta,
} from "@chronicle/core";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { OptimisticStates } from "./optimistic-states.ts";

/** Counters for tests: how the pending list was answered. */
export interface PendingReadStats {
  /** `readPending` / `readCommands` calls answered from a view. */
  fromView: number;
}

export class OptimisticLocalLog implements LocalLog {
  readonly stats: PendingReadStats = { fromView: 0 };
  readonly #sameRun = new Map<string, ReturnType<OptimisticStates["current"]>>();

  constructor(
    readonly log: DexieLocalLog,
    readonly states: OptimisticStates,
  ) {}

  async readPending(stream: string): Promise<PendingEvent[]> {
    const { view } = await this.#current(stream);
    this.stats.fromView++;
    return view.events.map((event, index) => {
      const commandId = view.commands[index]?.id;
      return {
        localSeq: view.keys[index]!,
        event,
        ...(commandId === undefined ? {} : { commandId }),
      };
    });
  }

  async readCommands(stream: string): Promise<PendingCommand[]> {
    const { view } = await this.#current(stream);
    this.stats.fromView++;
    const commands = new Map<string, PendingCommand>();
    for (const stored of view.commands) {
      if (stored?.id === undefined || commands.has(stored.id)) continue;
      commands.set(stored.id, {
        id: stored.id,
        decider: stored.decider,
        command: stored.payload,
        strict: stored.strict,
        basePosition: stored.basePosition,
      });
    }
    return [...commands.values()];
  }

  // One transaction for the head and the floor (two otherwise), or the pending list's (4). An
  // async function: Dexie keeps native awaits in its transaction zone only for those.
  confirmedHead(stream: string): Promise<number> {
    const shared = this.#sameRun.get(stream);
    if (shared) return shared.then(({ probe }) => Math.max(probe.position.head, probe.floor));
    const db = this.log.store.db;
    return db.transaction(
      "r",
      [db.events, db.meta],
      async () => await this.log.confirmedHead(stream),
    );
  }

  // Invariant 4: the current view, shared with the reads asked for in the same run.
  #current(stream: string): ReturnType<OptimisticStates["current"]> {
    let read = this.#sameRun.get(stream);
    if (!read) {
      read = this.states.current(stream);
      this.#sameRun.set(stream, read);
      queueMicrotask(() => this.#sameRun.delete(stream));
    }
    return read;
  }

  async prependConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    try {
      await this.log.prependConfirmed(stream, events);
    } finally {
      this.states.forgetStream(stream); // 3.
    }
  }

  confirmedFloor(stream: string): Promise<number> {
    return this.log.confirmedFloor(stream);
  }

  readConfirmed(stream: string, after?: number, limit?: number): Promise<ConfirmedEvent[]> {
    return this.log.readConfirmed(stream, after, limit);
  }

  startConfirmedAt(stream: string, start: ConfirmedStart): Promise<void> {
    return this.log.startConfirmedAt(stream, start);
  }

  readStartSnapshots(stream: string): Promise<Snapshot[]> {
    return this.log.readStartSnapshots(stream);
  }

  addPending(
    stream: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void> {
    return this.log.addPending(stream, events, command);
  }

  applyConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    return this.log.applyConfirmed(stream, events);
  }

  replacePending(
    stream: string,
    commandId: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void> {
    return this.log.replacePending(stream, commandId, events, command);
  }

  dropPending(stream: string, ids: readonly string[]): Promise<void> {
    return this.log.dropPending(stream, ids);
  }

  resetConfirmed(stream: string, epoch: string): Promise<void> {
    return this.log.resetConfirmed(stream, epoch);
  }

  readMeta(stream: string): Promise<StreamSyncMeta> {
    return this.log.readMeta(stream);
  }

  writeMeta(stream: string, meta: StreamSyncMeta): Promise<void> {
    return this.log.writeMeta(stream, meta);
  }

  streamsWithPending(): Promise<string[]> {
    return this.log.streamsWithPending();
  }
}

// DexieLocalLog: core's LocalLog (the device's confirmed prefix + pending events that the sync
// engine drives) over the browser database. Confirmed events live in `events` (what
// DexieEventStore.readStream returns, projections moved in the same transaction), pending ones
// in `pending` with their command, the epoch in the `meta` row `stream/<id>` (SyncTables).
import {
  assertExactJson,
  ChronicleError,
  type ConfirmedEvent,
  type ConfirmedStart,
  historyIncomplete,
  type LocalLog,
  type PendingCommand,
  type PendingEvent,
  type RecordedEvent,
  type Snapshot,
  type StreamSyncMeta,
} from "@chronicle/core";
import { checkBackfill, projectionKey } from "@chronicle/core/store";
import type { DexieEventStore } from "./dexie-store.ts";
import type { FloorState } from "./floor.ts";
import type { PendingRow, PendingCommandRow as StoredCommand } from "./schema.ts";
import { noOwner, restamp } from "./stream-stamps.ts";
import { SyncTables } from "./sync-tables.ts";

const toStored = (command: PendingCommand): StoredCommand => ({
  id: command.id,
  decider: command.decider,
  payload: command.command,
  strict: command.strict,
  basePosition: command.basePosition,
});

const toCommand = (stored: StoredCommand & { id: string }): PendingCommand => ({
  id: stored.id,
  decider: stored.decider,
  command: stored.payload,
  strict: stored.strict,
  basePosition: stored.basePosition,
});

/**
 * The sync engine's LocalLog in IndexedDB, over one DexieEventStore: every method is one
 * transaction, and confirmed events go through the store, so its heads, projections and commit
 * notices (to subscribers in every tab) stay consistent. Passes core's LocalLog contract suite.
 *
 * @example
 * const local = new DexieLocalLog(store);
 * const engine = createSyncEngine({ local, transport, device: deviceId });
 */
export class DexieLocalLog implements LocalLog {
  /** The sync tables it reads and writes pending events and sync state through. */
  readonly tables: SyncTables;

  constructor(
    /** The store confirmed events go through. */
    readonly store: DexieEventStore,
    /**
     * The owner named by the stream stamps this log's writes leave (the browser host passes its
     * engine's); by default none.
     */
    readonly stampOwner: string = noOwner,
  ) {
    this.tables = new SyncTables(store, stampOwner);
  }

  async confirmedHead(stream: string): Promise<number> {
    return (await this.#headAndFloor(stream)).head;
  }

  // The confirmed head (the stored head, or the floor of a log started after one) and the floor,
  // read together.
  async #headAndFloor(stream: string): Promise<{ head: number; floor: number }> {
    const [stored, floor] = await Promise.all([
      this.store.head(stream),
      this.confirmedFloor(stream),
    ]);
    return { head: Math.max(stored, floor), floor };
  }

  async confirmedFloor(stream: string): Promise<number> {
    return (await this.#floorState(stream)).floor ?? 0;
  }

  async readConfirmed(stream: string, after = 0, limit?: number): Promise<ConfirmedEvent[]> {
    const from = Math.max(0, after);
    const floor = await this.confirmedFloor(stream);
    if (from < floor) throw historyIncomplete(stream, floor, from);
    return this.store.readStream(stream, {
      from: from + 1,
      ...(limit === undefined ? {} : { limit }),
    });
  }

  /**
   * Also stores the snapshots where the host loads states from: decider and projection
   * snapshots in `snapshots`, and each projection's record at the floor, so reads and commands
   * work on the snapshot state plus the tail at once.
   */
  async startConfirmedAt(stream: string, start: ConfirmedStart): Promise<void> {
    if (!Number.isSafeInteger(start.floor) || start.floor < 1) {
      throw new ChronicleError("validation", `${stream}: a floor is a position >= 1`, {
        details: { floor: start.floor },
      });
    }
    const db = this.store.db;
    const written = await this.store.transaction(async () => {
      const [head, state] = await Promise.all([
        this.store.head(stream),
        this.tables.syncState(stream),
      ]);
      if (head > 0 || ((state as FloorState).floor ?? 0) > 0) {
        throw new ChronicleError(
          "validation",
          `${stream}: the confirmed log is not empty; only an empty one starts after a floor`,
          { details: { stream, head: Math.max(head, (state as FloorState).floor ?? 0) } },
        );
      }
      const snapshots = structuredClone([...start.snapshots]);
      const floorState: FloorState = { floor: start.floor, startSnapshots: snapshots };
      await this.tables.setSyncState(stream, {
        ...state,
        ...floorState,
        cursor: start.floor,
        epoch: start.epoch,
      });
      if (snapshots.length > 0) await db.snapshots.bulkPut(snapshots);
      const prefix = "projection/";
      const suffix = `/${stream}`;
      const records = snapshots
        .filter((snapshot) => snapshot.key.startsWith(prefix) && snapshot.key.endsWith(suffix))
        .map((snapshot) => {
          const name = snapshot.key.slice(prefix.length, -suffix.length);
          return {
            key: projectionKey({ name }, stream),
            name,
            version: snapshot.version,
            checkpoint: start.floor,
            state: snapshot.state,
          };
        });
      if (records.length > 0) await db.projections.bulkPut(records);
      return records;
    }, `start ${stream} after position ${start.floor}`);
    // Every tab's cache of projection records learns the records at the floor.
    this.store.announce({ streams: [stream], records: written });
  }

  async readStartSnapshots(stream: string): Promise<Snapshot[]> {
    return (await this.#floorState(stream)).startSnapshots ?? [];
  }

  async prependConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.store.transaction(async () => {
      const state = await this.tables.syncState(stream);
      const floor = (state as FloorState).floor ?? 0;
      const below = events
        .filter((event) => event.position <= floor)
        .sort((a, b) => a.position - b.position);
      if (below.length === 0) return;
      checkBackfill(stream, floor, below);
      await this.store.insertBackfill(stream, below);
      await this.store.db.pending
        .where("[stream+id]")
        .anyOf(below.map((event) => [stream, event.id]))
        .delete();
      const moved: FloorState = { floor: below[0]!.position - 1 };
      await this.tables.setSyncState(stream, { ...state, ...moved });
    }, `back-fill ${stream}`);
  }

  async #floorState(stream: string): Promise<FloorState> {
    return (await this.tables.syncState(stream)) as FloorState;
  }

  async readPending(stream: string): Promise<PendingEvent[]> {
    return (await this.tables.pending(stream)).map(toPendingEvent);
  }

  async readCommands(stream: string): Promise<PendingCommand[]> {
    const commands = new Map<string, PendingCommand>();
    for (const row of await this.tables.pending(stream)) {
      const stored = row.command;
      if (stored?.id !== undefined && !commands.has(stored.id)) {
        commands.set(stored.id, toCommand({ ...stored, id: stored.id }));
      }
    }
    return [...commands.values()];
  }

  async addPending(
    stream: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void> {
    if (events.length === 0) return;
    const unordered = events.map(
      ({ position: _position, recordedAt: _recordedAt, ...event }) => event,
    );
    await this.tables.appendPending(stream, unordered, command && toStored(command));
  }

  async applyConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.store.transaction(async () => {
      const { head, floor } = await this.#headAndFloor(stream);
      const fresh = events.filter((event) => event.position > head);
      if (fresh.length > 0) await this.tables.insertConfirmed(stream, fresh, floor);
    }, `apply confirmed events to ${stream}`);
  }

  async replacePending(
    stream: string,
    commandId: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void> {
    assertExactJson(events, "events");
    const db = this.store.db;
    await this.store.transaction(async () => {
      const rows = await this.tables.pending(stream);
      const found = rows.findIndex((row) => row.command?.id === commandId);
      // A command no longer pending (confirmed meanwhile) gets its new events at the end, as
      // MemoryLocalLog does.
      const first = found < 0 ? rows.length : found;
      const stored = command
        ? toStored(command)
        : (rows[found]?.command ?? {
            id: commandId,
            decider: "",
            payload: null,
            strict: false,
            basePosition: 0,
          });
      // Local order is the auto-incremented key: the command's new events and every pending
      // event after them are written again, in order, so they keep their place in the stream.
      const later = rows.slice(first);
      const after = later.filter((row) => row.command?.id !== commandId);
      await db.pending.bulkDelete(later.map((row) => row.localSeq!));
      const replaced: PendingRow[] = events.map((event) => toRow(stream, event, stored));
      const moved = after.map(({ localSeq: _seq, ...row }) => row);
      await db.pending.bulkAdd([...replaced, ...moved]);
      await restamp(db, stream, this.stampOwner);
    }, `replace pending command ${commandId} of ${stream}`);
  }

  async dropPending(stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.store.transaction(async () => {
      const wanted = new Set(ids);
      const rows = (await this.tables.pending(stream)).filter((row) => wanted.has(row.id));
      await this.store.db.pending.bulkDelete(rows.map((row) => row.localSeq!));
      await restamp(this.store.db, stream, this.stampOwner);
    }, `drop pending events of ${stream}`);
  }

  resetConfirmed(stream: string, epoch: string): Promise<void> {
    return this.tables.resetConfirmed(stream, epoch);
  }

  async readMeta(stream: string): Promise<StreamSyncMeta> {
    const state = await this.tables.syncState(stream);
    return state.epoch === undefined ? {} : { epoch: state.epoch };
  }

  async writeMeta(stream: string, meta: StreamSyncMeta): Promise<void> {
    await this.store.transaction(async () => {
      const { epoch: _epoch, ...state } = await this.tables.syncState(stream);
      await this.tables.setSyncState(stream, {
        ...state,
        ...(meta.epoch === undefined ? {} : { epoch: meta.epoch }),
      });
    }, `write the sync state of ${stream}`);
  }

  async streamsWithPending(): Promise<string[]> {
    const keys = await this.store.db.pending.orderBy("[stream+localSeq]").keys();
    return [...new Set(keys.map((key) => (key as unknown as [string, number])[0]))];
  }
}

function toRow(stream: string, event: RecordedEvent, command: StoredCommand): PendingRow {
  const { position: _position, recordedAt: _recordedAt, ...rest } = event;
  return { id: event.id, stream, event: rest, command };
}

function toPendingEvent(row: PendingRow): PendingEvent {
  return {
    localSeq: row.localSeq!,
    event: row.event,
    ...(row.command?.id === undefined ? {} : { commandId: row.command.id }),
  };
}

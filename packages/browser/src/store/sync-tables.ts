// The operations a sync engine performs on the local database (the sync seam). Invariants:
// 1. An event (`[stream+id]`) is in `pending` or in `events`, never in both after a transaction
//    commits. Ids are unique per stream: pending rows are always found by `[stream+id]`.
// 2. Confirmed events enter `events` in position order without gaps (insertConfirmed checks it);
//    projections move in the same transaction.
// 3. Pending events keep their local order (`localSeq`) across confirmations and rebases: the
//    optimistic state is fold(confirmed) then pending, in that order.
// 4. Every write replaces the stream's stamp in its transaction (schema.ts, invariant 5).
import {
  type AppendedEvent,
  assertExactJson,
  type ConfirmedEvent,
  type Foldable,
  foldEvents,
  loadState,
  type NewEvent,
  type SnapshotStore,
} from "@chronicle/core";
import { validateBatch } from "@chronicle/core/store";
import Dexie from "dexie";
import type { DexieEventStore } from "./dexie-store.ts";
import { streamPosition, tailKey } from "./log-queries.ts";
import type { PendingCommandRow, PendingRow, StreamSyncState } from "./schema.ts";
import { noOwner, restamp } from "./stream-stamps.ts";

const syncKey = (stream: string) => `stream/${stream}`;

/**
 * The pending log, confirmations, remote events, epochs and cursors, over one store.
 *
 * @example
 * const sync = new SyncTables(store);
 * await sync.appendPending("board:1", events, { decider: "board", payload, strict: false, basePosition: 4 });
 * await sync.confirm("board:1", ack.results);
 */
export class SyncTables {
  constructor(
    /** The store whose database holds the tables. */
    readonly store: DexieEventStore,
    /**
     * The owner named by the stream stamps these writes leave (the browser host passes its
     * engine's); by default none.
     */
    readonly stampOwner: string = noOwner,
  ) {}

  /**
   * Records events written here, with the command that produced them, in local order. Events
   * that are not exact JSON are refused with `validation` (core's `assertExactJson`), nothing
   * stored: IndexedDB would keep them, but the node would refuse or change them.
   */
  async appendPending(stream: string, events: readonly NewEvent[], command?: PendingCommandRow) {
    validateBatch(stream, events);
    assertExactJson(events, "events");
    await this.store.transaction(async () => {
      const rows: PendingRow[] = events.map((event) => ({
        id: event.id,
        stream,
        event: { ...event },
        ...(command ? { command } : {}),
      }));
      await this.store.db.pending.bulkAdd(rows);
      await restamp(this.store.db, stream, this.stampOwner);
    }, `append pending events to ${stream}`);
  }

  /** The stream's pending events, in local order. */
  pending(stream: string): Promise<PendingRow[]> {
    return this.store.db.pending
      .where("[stream+localSeq]")
      .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
      .toArray();
  }

  /**
   * Moves acknowledged pending events to the confirmed log at the positions the node gave them
   * (an `ack`'s results). Acks of events already confirmed are ignored.
   */
  async confirm(stream: string, acks: readonly AppendedEvent[]): Promise<void> {
    await this.store.transaction(async () => {
      const rows = await this.store.db.pending
        .where("[stream+id]")
        .anyOf(acks.map((a) => [stream, a.id]))
        .toArray();
      const byId = new Map(rows.map((row) => [row.id, row]));
      const confirmed: ConfirmedEvent[] = [];
      for (const ack of acks) {
        const row = byId.get(ack.id);
        if (row)
          confirmed.push({ ...row.event, position: ack.position, recordedAt: ack.recordedAt });
      }
      await this.insertConfirmed(stream, confirmed);
    }, `confirm events of ${stream}`);
  }

  /**
   * Stores events the node ordered (from other devices, or our own coming back): idempotent by
   * id, gapless, and each one also leaves `pending` if it was ours.
   */
  async insertConfirmed(
    stream: string,
    events: readonly ConfirmedEvent[],
    /** The stream's floor (a log started from the node's snapshots continues after it). */
    floor = 0,
  ): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.insertConfirmed(stream, events, floor);
      const ids = events.map((event) => event.id);
      // Issued together: one round trip to IndexedDB, not two, in the same transaction.
      const [, state] = await Promise.all([
        ids.length > 0
          ? this.store.db.pending
              .where("[stream+id]")
              .anyOf(ids.map((id) => [stream, id]))
              .delete()
          : undefined,
        this.syncState(stream),
      ]);
      const last = events.at(-1);
      // Once: setSyncState replaces the stamp too.
      if (last && last.position > state.cursor) {
        await this.setSyncState(stream, { ...state, cursor: last.position });
      } else await restamp(this.store.db, stream, this.stampOwner);
    }, `insert confirmed events into ${stream}`);
  }

  /** Drops pending events of `stream` (a rejected strict write the app gave up on). */
  async dropPending(stream: string, ids: readonly string[]): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.db.pending
        .where("[stream+id]")
        .anyOf(ids.map((id) => [stream, id]))
        .delete();
      await restamp(this.store.db, stream, this.stampOwner);
    }, `drop pending events of ${stream}`);
  }

  /**
   * The node's epoch differs from the stored one: forget the stream's confirmed events and what
   * was folded from them (projection records, snapshots), keep pending events to re-push, and
   * store the new epoch with cursor 0.
   */
  async resetConfirmed(stream: string, epoch: string): Promise<void> {
    const db = this.store.db;
    await this.store.transaction(async () => {
      // The tail's floor first: the commit sequence goes on from here after the delete.
      const { tail } = await streamPosition(db, undefined);
      if (tail) await db.meta.put({ key: tailKey, value: tail });
      await db.events
        .where("[stream+position]")
        .between([stream, Dexie.minKey], [stream, Dexie.maxKey], true, true)
        .delete();
      await db.projections.filter((record) => record.key.endsWith(`/${stream}`)).delete();
      await db.snapshots.filter((snapshot) => snapshot.key.endsWith(`/${stream}`)).delete();
      await this.setSyncState(stream, { cursor: 0, epoch });
    }, `reset ${stream} for a new epoch`);
  }

  /** The stream's sync cursor and epoch (cursor 0 before any sync). */
  async syncState(stream: string): Promise<StreamSyncState> {
    const row = await this.store.db.meta.get(syncKey(stream));
    return (row?.value as StreamSyncState | undefined) ?? { cursor: 0 };
  }

  /** Replaces the stream's sync cursor and epoch (and its stamp, in the same transaction). */
  async setSyncState(stream: string, state: StreamSyncState): Promise<void> {
    await this.store.transaction(async () => {
      await this.store.db.meta.put({ key: syncKey(stream), value: state });
      await restamp(this.store.db, stream, this.stampOwner);
    }, `write the sync state of ${stream}`);
  }

  /** Optimistic state: fold the confirmed prefix (from a snapshot), then the pending events. */
  async optimisticState<State>(
    foldable: Foldable<State>,
    stream: string,
    snapshots?: SnapshotStore,
  ): Promise<{
    /** The state with the pending events folded in. */
    state: State;
    /** The confirmed position the fold includes. */
    confirmed: number;
    /** How many pending events it includes. */
    pending: number;
  }> {
    const loaded = await loadState(this.store, foldable, stream, { snapshots });
    const pending = await this.pending(stream);
    const state = foldEvents(
      foldable,
      loaded.state,
      pending.map((row) => row.event),
    );
    return { state, confirmed: loaded.position, pending: pending.length };
  }
}

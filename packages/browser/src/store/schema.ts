// internal: not exported. The IndexedDB schema of a Chronicle database, declared with Dexie.
// Invariants every writer keeps:
// 1. `events` holds confirmed events only (they have a position), keyed by `[stream+id]` (so the
//    idempotency lookup of a batch is one bulkGet, and an id names one event per stream, as at
//    the node: the same id in two streams is two events); `seq` is the local commit order (the global
//    checkpoint of readAll) and increases by one per stored event, never reused. A stream's head
//    and the log's tail are the last entries of its indexes; before events are deleted (an epoch
//    reset) the tail is written to `meta` as a floor, so the sequence goes on from there.
//    `seq` is a unique index (schema version 2), so two writers that both continue from the same
//    tail cannot both commit: the second one's rows are refused and its transaction aborts.
// 2. Per stream, positions in `events` are 1..head without gaps; `[stream+position]` is unique
//    (version 2), so a writer continuing from a stale head is refused the same way.
// 3. `pending` holds events written here and not yet acknowledged, in `localSeq` order, each with
//    the command that produced it; a `[stream+id]` is never in both tables once a sync engine
//    confirms it. Pending rows are found by `[stream+id]`, never by id alone.
// 4. A projection record's checkpoint names the last event folded into its state, and is written
//    in the same transaction as the events that moved it.
// 5. `stamps` holds at most one row per stream (`stream` is a unique index), keyed by
//    `[stream+stamp]`; a stamp names its owner, an engine or none (stream-stamps.ts). Every
//    transaction that changes a synced stream's pending rows, confirmed events or sync state
//    (epoch, floor) replaces the stream's row with a fresh random stamp, except the owner's
//    writes from a kept view, which write the same row again (and keep their view up to date).
//    So an engine that saw its own stamp, or an ownerless one, knows the stream is as it saw it
//    exactly while the stamp is unchanged, and can make its commit depend on that without
//    reading: write the row it saw again, or swap it for one of its own; if another writer
//    replaced it meanwhile, the write breaks the unique index and the transaction aborts whole
//    (the synced path's kept view relies on it).

import type { ConfirmedEvent, ProjectionRecord, RecordedEvent, Snapshot } from "@chronicle/core";
import type { ConsumerRecord, DeadLetter, ProcessInstance } from "@chronicle/core/process";
import Dexie, { type DexieOptions, type IndexableType, type Table } from "dexie";

/** A reaction's dead letter as stored: the letter plus the order it was first stored in. */
export type DeadLetterRow = DeadLetter & {
  /** Increasing: dead letters are listed oldest first; replacing one keeps its place. */
  order: number;
};

/** A confirmed event row: the envelope plus its local commit sequence. */
export type EventRow = ConfirmedEvent & {
  /** Local commit order across all streams: the global checkpoint of `readAll`. */
  seq: number;
};

/** The command that produced a pending event, kept so a strict push can be re-decided. */
export interface PendingCommandRow {
  /** The command's id (its events' causationId), when the writer gave one (DexieLocalLog does). */
  id?: string;
  /** The decider's name. */
  decider: string;
  /** The command payload as given to `decide`. */
  payload: unknown;
  /** Strict writes are rejected by the node when the head moved past `basePosition`. */
  strict: boolean;
  /** The confirmed head the command was decided on. */
  basePosition: number;
}

/** An event written locally and not yet acknowledged by a sync node. */
export interface PendingRow {
  /** Local order across all streams (auto-incremented). */
  localSeq?: number;
  /** The event's id. */
  id: string;
  /** The event's stream. */
  stream: string;
  /** The event as written locally. */
  event: RecordedEvent;
  /** The command that produced it, when it came from one. */
  command?: PendingCommandRow;
}

/** A stream's stamp (invariant 5). */
export interface StampRow {
  /** The stream's id (unique: one row per stream). */
  stream: string;
  /** `<owner>/<random>`, never reused (invariant 5). */
  stamp: string;
}

/** Per-stream sync state, and other single values, by key. */
export interface MetaRow {
  /** `device`, or `stream/<stream id>` for a stream's sync cursor and epoch. */
  key: string;
  /** The device id, or the stream's sync state ({@link StreamSyncState}). */
  value: unknown;
}

/** A stream's sync state as a sync engine keeps it in `meta`. */
export interface StreamSyncState {
  /** The highest confirmed position received from the node. */
  cursor: number;
  /** The node's epoch for this stream; a different one resets the confirmed cache. */
  epoch?: string;
}

/**
 * A snapshot row: core's Snapshot as stored. Internal: not exported; the docs show it inline.
 *
 * @inline
 */
export type SnapshotRow = Snapshot;

/**
 * Schema history. Dexie needs every version that ever shipped so that it can upgrade a database
 * left by an older tab; add a new entry (never edit an old one) when the layout changes.
 * Internal: not exported; the docs show it inline in {@link schemaVersions}.
 *
 * @inline
 */
export interface SchemaVersion {
  /** The IndexedDB version number, increasing. */
  version: number;
  /** Dexie's table declarations (primary key and indexes); `null` deletes a table. */
  stores: Record<string, string | null>;
  /** Moves the rows of the previous version to this one, inside the upgrade transaction. */
  upgrade?: (tx: import("dexie").Transaction) => Promise<void>;
}

/** Every schema version that ever shipped, oldest first: what ChronicleDb declares to Dexie. */
export const schemaVersions: readonly SchemaVersion[] = [
  {
    version: 1,
    stores: {
      events: "id, seq, [stream+position], [stream+recordedAt]",
      pending: "++localSeq, id, [stream+localSeq]",
      projections: "key",
      snapshots: "[key+position]",
      meta: "key",
    },
  },
  {
    // The commit sequence and stream positions become unique indexes: a write that assumed a
    // head and tail without reading them is refused by IndexedDB itself when another context
    // wrote after them (see DexieEventStore.writeAt). Dexie rebuilds the two indexes; the rows
    // of a version-1 database already satisfy them (invariants 1 and 2).
    version: 2,
    stores: {
      events: "id, &seq, &[stream+position], [stream+recordedAt]",
      pending: "++localSeq, id, [stream+localSeq]",
      projections: "key",
      snapshots: "[key+position]",
      meta: "key",
    },
  },
  {
    // Event ids become unique per stream (docs/architecture.md, "Event ids"): the key of
    // `events` moves from `id` to `[stream+id]`, so a device can hold an event from the node
    // whose id another stream also uses. IndexedDB cannot change a store's key in place (nor
    // can Dexie), so the rows move to `eventLog` here and back to `events`, under the new key,
    // in version 4; a database opened fresh gets version 4's tables directly. Pending rows are
    // indexed by `[stream+id]` instead of `id`.
    version: 3,
    stores: {
      events: null,
      eventLog: "[stream+id], &seq, &[stream+position], [stream+recordedAt]",
      pending: "++localSeq, [stream+id], [stream+localSeq]",
      projections: "key",
      snapshots: "[key+position]",
      meta: "key",
    },
    upgrade: (tx) => copyEvents(tx, "events", "eventLog", (row) => row.id),
  },
  {
    version: 4,
    stores: {
      eventLog: null,
      events: "[stream+id], &seq, &[stream+position], [stream+recordedAt]",
      pending: "++localSeq, [stream+id], [stream+localSeq]",
      projections: "key",
      snapshots: "[key+position]",
      meta: "key",
    },
    upgrade: (tx) => copyEvents(tx, "eventLog", "events", (row) => [row.stream, row.id]),
  },
  {
    // Processes and reactions (docs/architecture.md, "Processes", "In the browser"): three new
    // tables, written by DexieProcessStore only; no existing row moves.
    version: 5,
    stores: {
      events: "[stream+id], &seq, &[stream+position], [stream+recordedAt]",
      pending: "++localSeq, [stream+id], [stream+localSeq]",
      projections: "key",
      snapshots: "[key+position]",
      meta: "key",
      processInstances: "[process+id], status",
      processConsumers: "name",
      processDeadLetters: "id, order, reaction",
    },
  },
  {
    // Stream stamps (invariant 5): one row per synced stream, replaced by every writer of its
    // pending rows, confirmed events or sync state. New table, no row moves: a stream without
    // a row has no stamp until its next write.
    version: 6,
    stores: {
      events: "[stream+id], &seq, &[stream+position], [stream+recordedAt]",
      pending: "++localSeq, [stream+id], [stream+localSeq]",
      projections: "key",
      snapshots: "[key+position]",
      meta: "key",
      processInstances: "[process+id], status",
      processConsumers: "name",
      processDeadLetters: "id, order, reaction",
      stamps: "[stream+stamp], &stream",
    },
  },
];

// Copies every event row, a page at a time in key order (a large log is never held in memory
// whole), within the upgrade transaction: all of it moves or none. Pages go by the primary key:
// a secondary index rebuilt by an earlier step of the same upgrade (version 2's `seq`) is not
// usable from Dexie's upgrade API.
async function copyEvents(
  tx: import("dexie").Transaction,
  from: string,
  to: string,
  keyOf: (row: EventRow) => IndexableType,
): Promise<void> {
  const source = tx.table<EventRow>(from);
  const target = tx.table<EventRow>(to);
  let last: IndexableType | undefined;
  for (;;) {
    const page = last === undefined ? source.orderBy(":id") : source.where(":id").above(last);
    const rows = await page.limit(1000).toArray();
    if (rows.length === 0) return;
    await target.bulkAdd(rows);
    last = keyOf(rows[rows.length - 1]!);
  }
}

/** The Dexie database of one Chronicle app (one per database name, shared by every tab). */
export class ChronicleDb extends Dexie {
  /** Confirmed events, keyed by `[stream+id]`. */
  events!: Table<EventRow, [string, string]>;
  /** Events written here and not yet acknowledged, by `localSeq`. */
  pending!: Table<PendingRow, number>;
  /** Projection records (state and checkpoint), by key. */
  projections!: Table<ProjectionRecord, string>;
  /** Snapshots, keyed by `[key+position]`. */
  snapshots!: Table<SnapshotRow, [string, number]>;
  /** The device id and per-stream sync state, by key. */
  meta!: Table<MetaRow, string>;
  /** Process instances, keyed by `[process+id]` (DexieProcessStore). */
  processInstances!: Table<ProcessInstance, [string, string]>;
  /** Process and reaction checkpoints, by consumer name (DexieProcessStore). */
  processConsumers!: Table<ConsumerRecord, string>;
  /** Reactions' dead letters, by id, in the order they were first stored (DexieProcessStore). */
  processDeadLetters!: Table<DeadLetterRow, string>;
  /** Stream stamps, keyed by `[stream+stamp]`, one per stream (invariant 5). */
  stamps!: Table<StampRow, [string, string]>;

  /** `versions` is for tests of the upgrade path; apps always get {@link schemaVersions}. */
  constructor(
    name: string,
    options: DexieOptions = {},
    versions: readonly SchemaVersion[] = schemaVersions,
  ) {
    // The optimistic liveQuery cache is of no use here (subscriptions pull) and costs memory.
    super(name, { cache: "disabled", ...options });
    // Dexie's liveQuery bookkeeping (mutation ranges per write, broadcast to other tabs) is not
    // used: subscriptions pull, and commit notices go through our own channel.
    this.unuse({ stack: "dbcore", name: "Observability" });
    for (const entry of versions) {
      const version = this.version(entry.version).stores(entry.stores);
      if (entry.upgrade) version.upgrade(entry.upgrade);
    }
    // A new database gets its device id in the transaction that creates the tables, so two tabs
    // opening it at once cannot pick different ids.
    this.on("populate", (tx) => {
      tx.table("meta").put({ key: "device", value: crypto.randomUUID() });
    });
  }

  /** Every table: the scope of transactions that write events and what they cause. */
  get all(): Table[] {
    // (`stamps` only from version 6: tests open older versions.)
    const tables: Table[] = [
      this.events,
      this.pending,
      this.projections,
      this.snapshots,
      this.meta,
    ];
    return this.stamps ? [...tables, this.stamps] : tables;
  }
}

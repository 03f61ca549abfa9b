// Core's ProjectionStateStore and SnapshotStore over the Chronicle database. Called inside a
// store transaction they join it, which is how an append and the projections it moves commit
// together.
import type {
  ProjectionRecord,
  ProjectionStateStore,
  Snapshot,
  SnapshotLoadOptions,
  SnapshotStore,
} from "@chronicle/core";
import { defaultSnapshotsKept, snapshotsToPrune } from "@chronicle/core/store";
import Dexie from "dexie";
import type { ChronicleDb } from "./schema.ts";
import { toStorageError } from "./storage-errors.ts";

/**
 * Projection states and checkpoints in IndexedDB. `put` never moves a record of the same
 * version backwards: a slower catch-up in another tab cannot undo a newer state.
 *
 * @example
 * const runner = createProjectionRunner({ store, states: new DexieProjectionStateStore(store.db) });
 */
export class DexieProjectionStateStore implements ProjectionStateStore {
  constructor(
    /** The database whose `projections` table holds the records. */
    readonly db: ChronicleDb,
  ) {}

  async get(key: string): Promise<ProjectionRecord | undefined> {
    try {
      return await this.db.projections.get(key);
    } catch (error) {
      throw toStorageError(error, `read projection ${key}`);
    }
  }

  async put(record: ProjectionRecord): Promise<void> {
    try {
      await this.db.transaction("rw", this.db.projections, async () => {
        const stored = await this.db.projections.get(record.key);
        if (stored && stored.version === record.version && stored.checkpoint > record.checkpoint) {
          return;
        }
        await this.db.projections.put(record);
      });
    } catch (error) {
      throw toStorageError(error, `save projection ${record.key}`);
    }
  }
}

/**
 * Snapshots in IndexedDB, several per key (by position), for fast loads and temporal reads.
 * Saving one prunes the key's snapshots of older versions and keeps the newest `keep` of its
 * version (core's snapshotsToPrune), in the same transaction.
 *
 * @example
 * const handle = createCommandHandler(store, boardDecider, { snapshots: new DexieSnapshotStore(store.db) });
 */
export class DexieSnapshotStore implements SnapshotStore {
  constructor(
    /** The database whose `snapshots` table holds them. */
    readonly db: ChronicleDb,
    /** Snapshots of the current version kept per key. @default 3 */
    readonly keep: number = defaultSnapshotsKept,
  ) {}

  async save(snapshot: Snapshot): Promise<void> {
    try {
      // Joins the caller's transaction when it covers `snapshots` (a command's), else its own.
      await this.db.transaction("rw", this.db.snapshots, async () => {
        await this.db.snapshots.put(snapshot);
        const kept = await this.db.snapshots
          .where("[key+position]")
          .between([snapshot.key, Dexie.minKey], [snapshot.key, Dexie.maxKey], true, true)
          .toArray();
        const doomed = snapshotsToPrune(kept, snapshot, this.keep);
        if (doomed.length > 0) {
          await this.db.snapshots.bulkDelete(
            doomed.map((old) => [old.key, old.position] as [string, number]),
          );
        }
      });
    } catch (error) {
      throw toStorageError(error, `save snapshot ${snapshot.key}`);
    }
  }

  async load(key: string, options: SnapshotLoadOptions = {}): Promise<Snapshot | undefined> {
    try {
      const upper = options.maxPosition ?? Dexie.maxKey;
      let found: Snapshot | undefined;
      // Newest first; the version filter skips snapshots of other versions of the fold.
      await this.db.snapshots
        .where("[key+position]")
        .between([key, Dexie.minKey], [key, upper], true, true)
        .reverse()
        .until(() => found !== undefined)
        .each((snapshot) => {
          if (
            found === undefined &&
            (options.version === undefined || snapshot.version === options.version)
          ) {
            found = snapshot;
          }
        });
      return found;
    } catch (error) {
      throw toStorageError(error, `load snapshot ${key}`);
    }
  }
}

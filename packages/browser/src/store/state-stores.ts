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
 *
 * @example
 * const handle = createCommandHandler(store, boardDecider, { snapshots: new DexieSnapshotStore(store.db) });
 */
export class DexieSnapshotStore implements SnapshotStore {
  constructor(
    /** The database whose `snapshots` table holds them. */
    readonly db: ChronicleDb,
  ) {}

  async save(snapshot: Snapshot): Promise<void> {
    try {
      await this.db.snapshots.put(snapshot);
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

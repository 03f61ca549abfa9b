// internal: not exported. The StreamLog's stored snapshots: states of the app's deciders and
// projections (snapshots/definitions.ts) at positions `serveSnapshots` chose, in the object's
// SQLite, keyed by kind, name, definition version and position. The table is created on first
// use (CREATE TABLE IF NOT EXISTS): a log that never served a snapshot has none. A state is a
// pure function of the log up to its position, which never changes (rule 1), so a stored state
// never goes stale; a new definition version simply has none yet. Each save prunes: the newest
// `keptStates` states of the fold's current version stay, older ones and other versions go.
import type { ConfirmedEvent } from "@chronicle/core";
import { KEPT_SNAPSHOTS, type SnapshotSource, type SnapshotWant } from "@chronicle/sync/protocol";
import type { LogTable } from "../stream-log/log-table.ts";

/** States kept per fold and version: the newest few (older ones are pruned on each save). */
export const keptStates = KEPT_SNAPSHOTS;

export class SnapshotTable implements SnapshotSource {
  readonly #storage: DurableObjectStorage;
  readonly #log: LogTable;

  constructor(storage: DurableObjectStorage, log: LogTable) {
    this.#storage = storage;
    this.#log = log;
    storage.sql.exec(`CREATE TABLE IF NOT EXISTS snapshots (
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      position INTEGER NOT NULL,
      state TEXT NOT NULL,
      taken_at INTEGER NOT NULL,
      PRIMARY KEY (kind, name, version, position)
    )`);
  }

  get head(): number {
    return this.#log.head;
  }

  read(after: number, limit: number): readonly ConfirmedEvent[] {
    return this.#log.readStream({ from: after + 1, limit });
  }

  nearest(want: SnapshotWant, position: number): { position: number; state: unknown } | undefined {
    const row = this.#storage.sql
      .exec<{ position: number; state: string }>(
        `SELECT position, state FROM snapshots
         WHERE kind = ? AND name = ? AND version = ? AND position <= ?
         ORDER BY position DESC LIMIT 1`,
        want.kind,
        want.name,
        want.version,
        position,
      )
      .toArray()[0];
    return row && { position: row.position, state: JSON.parse(row.state) };
  }

  save(want: SnapshotWant, position: number, json: string): void {
    this.#storage.transactionSync(() => {
      this.#insert(want, position, json);
      this.#prune(want);
    });
  }

  // Keeps, per fold, the newest `kept` states of the version just saved (the next state is
  // folded from the newest) and none of other versions: the node serves only its definitions'.
  #prune(want: SnapshotWant): void {
    this.#storage.sql.exec(
      `DELETE FROM snapshots WHERE kind = ? AND name = ? AND (version != ? OR position < COALESCE((
         SELECT MIN(position) FROM (
           SELECT position FROM snapshots WHERE kind = ? AND name = ? AND version = ?
           ORDER BY position DESC LIMIT ?)), 0))`,
      want.kind,
      want.name,
      want.version,
      want.kind,
      want.name,
      want.version,
      keptStates,
    );
  }

  #insert(want: SnapshotWant, position: number, json: string): void {
    this.#storage.sql.exec(
      `INSERT OR REPLACE INTO snapshots (kind, name, version, position, state, taken_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      want.kind,
      want.name,
      want.version,
      position,
      json,
      Date.now(),
    );
  }

  /** How many states are stored (tests and diagnostics). */
  count(): number {
    return this.#storage.sql
      .exec<{ n: number }>(`SELECT COUNT(*) AS n FROM snapshots`)
      .toArray()[0]!.n;
  }
}

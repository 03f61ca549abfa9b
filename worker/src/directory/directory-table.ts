// internal: not exported. The StreamDirectory's SQLite table: one row per stream of the space,
// with the highest head any notice has reported. Notices arrive at least once and in any order,
// so a write only ever raises a head (a notice of another epoch, a recreated log, replaces it).
import type { StreamHead } from "@chronicle/sync/protocol";

type Migration = (sql: SqlStorage) => void;

const migrations: Migration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE streams (
      stream TEXT PRIMARY KEY,
      head INTEGER NOT NULL,
      epoch TEXT NOT NULL
    )`);
  },
];

const schemaVersion = migrations.length;

/** Brings the directory's database up to date, in one transaction (as the StreamLog's schema). */
function migrate(storage: DurableObjectStorage): void {
  storage.transactionSync(() => {
    const { sql } = storage;
    sql.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
    const row = sql.exec<{ version: number }>(`SELECT version FROM schema_version`).toArray()[0];
    const found = row?.version ?? 0;
    if (found > schemaVersion) {
      throw new Error(`directory schema ${found} is newer than this node (${schemaVersion})`);
    }
    for (let version = found; version < schemaVersion; version++) migrations[version]!(sql);
    if (row === undefined)
      sql.exec(`INSERT INTO schema_version (version) VALUES (?)`, schemaVersion);
    else sql.exec(`UPDATE schema_version SET version = ?`, schemaVersion);
  });
}

// Every character a stream id may hold sorts below '~', so [prefix, prefix + '~') is exactly the
// ids that start with the prefix, and the primary key's index serves the range.
const rangeEnd = (prefix: string) => `${prefix}~`;

export class DirectoryTable {
  constructor(private readonly storage: DurableObjectStorage) {
    migrate(storage);
  }

  meta(key: string): string | undefined {
    return this.storage.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key)
      .toArray()[0]?.value;
  }

  setMeta(key: string, value: string): void {
    this.storage.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, key, value);
  }

  /**
   * Records a notice; true when it changed the row (a higher head, or another epoch). A
   * duplicate or a late notice of a lower head changes nothing.
   */
  notice(stream: string, head: number, epoch: string): boolean {
    const cursor = this.storage.sql.exec(
      `INSERT INTO streams (stream, head, epoch) VALUES (?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET head = excluded.head, epoch = excluded.epoch
       WHERE excluded.head > streams.head OR excluded.epoch <> streams.epoch`,
      stream,
      head,
      epoch,
    );
    return cursor.rowsWritten > 0;
  }

  /** Up to `limit` rows under `prefix` after the stream id `after`, in id order. */
  page(prefix: string, after: string | undefined, limit: number): StreamHead[] {
    const from = after !== undefined && after >= prefix ? after : undefined;
    const rows =
      from === undefined
        ? this.storage.sql.exec<{ stream: string; head: number; epoch: string }>(
            `SELECT stream, head, epoch FROM streams WHERE stream >= ? AND stream < ?
             ORDER BY stream LIMIT ?`,
            prefix,
            rangeEnd(prefix),
            limit,
          )
        : this.storage.sql.exec<{ stream: string; head: number; epoch: string }>(
            `SELECT stream, head, epoch FROM streams WHERE stream > ? AND stream < ?
             ORDER BY stream LIMIT ?`,
            from,
            rangeEnd(prefix),
            limit,
          );
    return rows.toArray().map(({ stream, head, epoch }) => ({ stream, head, epoch }));
  }
}

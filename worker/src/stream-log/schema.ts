// internal: not exported. The StreamLog's SQLite schema and its migrations.
// `PRAGMA user_version` is refused in Durable Objects, so the version lives in a table. The
// migrations run in the constructor inside one transactionSync: a half-migrated log cannot exist.

type Migration = (sql: SqlStorage) => void;

const migrations: Migration[] = [
  // 1: the log. The position is the primary key (rule 1: gapless order is the key order) and
  // the event id is unique (rule 3: idempotency is enforced by the database, not only by code).
  (sql) => {
    sql.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE events (
      position INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      recorded_at INTEGER NOT NULL,
      body TEXT NOT NULL
    )`);
    // Rule 6: a random epoch fixed when the log is created.
    sql.exec(`INSERT INTO meta (key, value) VALUES ('epoch', ?)`, crypto.randomUUID());
  },
];

/** The schema version this code writes. */
export const schemaVersion = migrations.length;

/** Brings the database up to {@link schemaVersion}; returns the version it found. */
export function migrate(storage: DurableObjectStorage): number {
  return storage.transactionSync(() => {
    const { sql } = storage;
    sql.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
    const row = sql.exec<{ version: number }>(`SELECT version FROM schema_version`).toArray()[0];
    const found = row?.version ?? 0;
    if (found > schemaVersion) {
      throw new Error(`log schema ${found} is newer than this node (${schemaVersion})`);
    }
    for (let version = found; version < schemaVersion; version++) migrations[version]!(sql);
    if (row === undefined)
      sql.exec(`INSERT INTO schema_version (version) VALUES (?)`, schemaVersion);
    else sql.exec(`UPDATE schema_version SET version = ?`, schemaVersion);
    return found;
  });
}

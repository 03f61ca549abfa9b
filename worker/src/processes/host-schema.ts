// internal: not exported. The ProcessHost's SQLite schema and its migrations (like the
// StreamLog's: the version lives in a table, migrations run in one transactionSync).
//   meta         the host key the object runs (bound on first use)
//   inbox        events fed by the stream logs, in arrival order (seq), unique by event id; the
//                bodies the consumer's checkpoint has passed are emptied (the ids stay, for
//                deduplication)
//   instances    process instances (ProcessStore), JSON bodies with their revision and, while
//                active, their earliest deadline (due_at)
//   consumers    checkpoints of the process or reaction (ProcessStore)
//   dead_letters a reaction's dead letters (ProcessStore), oldest first by rowid

type Migration = (sql: SqlStorage) => void;

const migrations: Migration[] = [
  (sql) => {
    sql.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    sql.exec(`CREATE TABLE inbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      body TEXT NOT NULL
    )`);
    sql.exec(`CREATE TABLE instances (
      process TEXT NOT NULL,
      id TEXT NOT NULL,
      status TEXT NOT NULL,
      revision INTEGER NOT NULL,
      body TEXT NOT NULL,
      PRIMARY KEY (process, id)
    )`);
    sql.exec(
      `CREATE TABLE consumers (name TEXT PRIMARY KEY, checkpoint INTEGER NOT NULL, body TEXT NOT NULL)`,
    );
    sql.exec(
      `CREATE TABLE dead_letters (id TEXT PRIMARY KEY, reaction TEXT NOT NULL, body TEXT NOT NULL)`,
    );
  },
  // 2: an active instance's earliest deadline as a column, so the host finds its next alarm
  // without reading every instance.
  (sql) => {
    sql.exec(`ALTER TABLE instances ADD COLUMN due_at INTEGER`);
    sql.exec(`UPDATE instances SET due_at = (
      SELECT MIN(json_extract(value, '$.dueAt')) FROM json_each(body, '$.deadlines')
    ) WHERE status IN ('running', 'waiting')`);
    sql.exec(`CREATE INDEX instances_due_at ON instances (due_at) WHERE due_at IS NOT NULL`);
  },
];

/** The schema version this code writes. */
export const hostSchemaVersion = migrations.length;

/** Brings the host's database up to {@link hostSchemaVersion}. */
export function migrateHost(storage: DurableObjectStorage): void {
  storage.transactionSync(() => {
    const { sql } = storage;
    sql.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
    const row = sql.exec<{ version: number }>(`SELECT version FROM schema_version`).toArray()[0];
    const found = row?.version ?? 0;
    if (found > hostSchemaVersion) {
      throw new Error(
        `process host schema ${found} is newer than this node (${hostSchemaVersion})`,
      );
    }
    for (let version = found; version < hostSchemaVersion; version++) migrations[version]!(sql);
    if (row === undefined) {
      sql.exec(`INSERT INTO schema_version (version) VALUES (?)`, hostSchemaVersion);
    } else sql.exec(`UPDATE schema_version SET version = ?`, hostSchemaVersion);
  });
}

// internal: not exported. core's ProcessStore over a ProcessHost's SQLite (host-schema.ts). Every
// method is synchronous SQL behind the async interface; `commit` is one transactionSync, so a
// write is stored whole or not at all (P1). Records are JSON: what is read is always a fresh copy.
// Passes core's runProcessStoreContract (worker/test/processes-store.workerd.test.ts).
import { ChronicleError } from "@chronicle/core";
import type {
  ConsumerRecord,
  DeadLetter,
  InstanceQuery,
  ProcessInstance,
  ProcessStatus,
  ProcessStore,
  ProcessWrite,
} from "@chronicle/core/process";

export class SqliteProcessStore implements ProcessStore {
  constructor(private readonly storage: DurableObjectStorage) {}

  async instance(process: string, id: string): Promise<ProcessInstance | undefined> {
    const row = this.storage.sql
      .exec<{ body: string }>(
        `SELECT body FROM instances WHERE process = ? AND id = ?`,
        process,
        id,
      )
      .toArray()[0];
    return row && (JSON.parse(row.body) as ProcessInstance);
  }

  async instances(query: InstanceQuery = {}): Promise<ProcessInstance[]> {
    const where: string[] = [];
    const values: string[] = [];
    if (query.process !== undefined) {
      where.push("process = ?");
      values.push(query.process);
    }
    if (query.status !== undefined) {
      if (query.status.length === 0) return [];
      where.push(`status IN (${query.status.map(() => "?").join(", ")})`);
      values.push(...query.status);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    return this.storage.sql
      .exec<{ body: string }>(
        `SELECT body FROM instances ${clause} ORDER BY process, id`,
        ...values,
      )
      .toArray()
      .map((row) => JSON.parse(row.body) as ProcessInstance);
  }

  /** One page of a process's instances in id order, after `after` (the observability route). */
  page(
    process: string,
    query: { status?: readonly ProcessStatus[]; after?: string; limit: number },
  ): ProcessInstance[] {
    const where = ["process = ?"];
    const values: (string | number)[] = [process];
    if (query.status !== undefined) {
      if (query.status.length === 0) return [];
      where.push(`status IN (${query.status.map(() => "?").join(", ")})`);
      values.push(...query.status);
    }
    if (query.after !== undefined) {
      where.push("id > ?");
      values.push(query.after);
    }
    return this.storage.sql
      .exec<{ body: string }>(
        `SELECT body FROM instances WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`,
        ...values,
        query.limit,
      )
      .toArray()
      .map((row) => JSON.parse(row.body) as ProcessInstance);
  }

  /** The earliest deadline of the active instances (ms, the runner's clock), if any. */
  nextDeadline(): number | undefined {
    return (
      this.storage.sql
        .exec<{ due: number | null }>(`SELECT MIN(due_at) AS due FROM instances`)
        .toArray()[0]?.due ?? undefined
    );
  }

  async consumer(name: string): Promise<ConsumerRecord | undefined> {
    const row = this.storage.sql
      .exec<{ body: string }>(`SELECT body FROM consumers WHERE name = ?`, name)
      .toArray()[0];
    return row && (JSON.parse(row.body) as ConsumerRecord);
  }

  async deadLetters(reaction?: string): Promise<DeadLetter[]> {
    const rows =
      reaction === undefined
        ? this.storage.sql.exec<{ body: string }>(`SELECT body FROM dead_letters ORDER BY rowid`)
        : this.storage.sql.exec<{ body: string }>(
            `SELECT body FROM dead_letters WHERE reaction = ? ORDER BY rowid`,
            reaction,
          );
    return rows.toArray().map((row) => JSON.parse(row.body) as DeadLetter);
  }

  async commit(write: ProcessWrite): Promise<void> {
    const { sql } = this.storage;
    this.storage.transactionSync(() => {
      // A refusal throws out of transactionSync: nothing of the write stays (one stale base
      // writes no instance and no checkpoint).
      const writes = write.instance
        ? [write.instance, ...(write.instances ?? [])]
        : (write.instances ?? []);
      for (const { record, expectedRevision } of writes) {
        const stored =
          sql
            .exec<{ revision: number }>(
              `SELECT revision FROM instances WHERE process = ? AND id = ?`,
              record.process,
              record.id,
            )
            .toArray()[0]?.revision ?? 0;
        if (stored !== expectedRevision) {
          const key = `${record.process}/${record.id}`;
          throw new ChronicleError(
            "concurrency",
            `process instance ${key}: expected revision ${expectedRevision}, stored ${stored}`,
            {
              details: {
                process: record.process,
                instance: record.id,
                expectedRevision,
                stored,
              },
            },
          );
        }
        const active = record.status === "running" || record.status === "waiting";
        const dueAt =
          active && record.deadlines.length > 0
            ? Math.min(...record.deadlines.map((deadline) => deadline.dueAt))
            : null;
        sql.exec(
          `INSERT OR REPLACE INTO instances (process, id, status, revision, body, due_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          record.process,
          record.id,
          record.status,
          record.revision,
          JSON.stringify(record),
          dueAt,
        );
      }
      if (write.consumer) {
        const consumer: ConsumerRecord = { ...write.consumer };
        const stored = sql
          .exec<{ checkpoint: number }>(
            `SELECT checkpoint FROM consumers WHERE name = ?`,
            consumer.name,
          )
          .toArray()[0];
        // A checkpoint never moves back (the retry, if any, is the write's).
        if (stored && stored.checkpoint > consumer.checkpoint) {
          consumer.checkpoint = stored.checkpoint;
        }
        sql.exec(
          `INSERT OR REPLACE INTO consumers (name, checkpoint, body) VALUES (?, ?, ?)`,
          consumer.name,
          consumer.checkpoint,
          JSON.stringify(consumer),
        );
      }
      if (write.removeDeadLetter !== undefined) {
        sql.exec(`DELETE FROM dead_letters WHERE id = ?`, write.removeDeadLetter);
      }
      if (write.deadLetter) {
        sql.exec(
          `INSERT INTO dead_letters (id, reaction, body) VALUES (?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET reaction = excluded.reaction, body = excluded.body`,
          write.deadLetter.id,
          write.deadLetter.reaction,
          JSON.stringify(write.deadLetter),
        );
      }
    });
  }
}

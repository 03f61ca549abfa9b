// internal: not exported. A ProcessHost's inbox: the events the stream logs feed it, in arrival
// order. `seq` is the global checkpoint the runner reads (`readAll`); the event id is UNIQUE, so
// an event fed twice (a retried feed, a log that restarted before it stored its ack) is stored
// once and handled once.
import type { ConfirmedEvent, LoggedEvent } from "@chronicle/core";

export class Inbox {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Stores the events not stored yet, in order, in one transaction; returns how many were new. */
  add(events: readonly ConfirmedEvent[]): number {
    let added = 0;
    this.storage.transactionSync(() => {
      for (const event of events) {
        const known = this.storage.sql
          .exec(`SELECT 1 FROM inbox WHERE id = ?`, event.id)
          .toArray().length;
        if (known > 0) continue;
        this.storage.sql.exec(
          `INSERT INTO inbox (id, body) VALUES (?, ?)`,
          event.id,
          JSON.stringify(event),
        );
        added += 1;
      }
    });
    return added;
  }

  /** Events after `after`, oldest first, at most `limit`. */
  read(after: number, limit: number): LoggedEvent[] {
    return this.storage.sql
      .exec<{ seq: number; body: string }>(
        `SELECT seq, body FROM inbox WHERE seq > ? ORDER BY seq LIMIT ?`,
        after,
        limit,
      )
      .toArray()
      .map((row) => ({ checkpoint: row.seq, event: JSON.parse(row.body) as ConfirmedEvent }));
  }

  /**
   * Empties the bodies of the events up to `checkpoint` (the consumer has handled them and never
   * reads behind its checkpoint); their ids stay, so a late duplicate is still recognised.
   */
  compact(checkpoint: number): void {
    const done = Number(this.#meta("inbox_compacted") ?? "0");
    if (checkpoint <= done) return;
    this.storage.transactionSync(() => {
      this.storage.sql.exec(
        `UPDATE inbox SET body = '' WHERE seq > ? AND seq <= ?`,
        done,
        checkpoint,
      );
      this.storage.sql.exec(
        `INSERT OR REPLACE INTO meta (key, value) VALUES ('inbox_compacted', ?)`,
        String(checkpoint),
      );
    });
  }

  #meta(key: string): string | undefined {
    return this.storage.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key)
      .toArray()[0]?.value;
  }

  /** The last checkpoint (0 when empty). */
  last(): number {
    return (
      this.storage.sql
        .exec<{ seq: number | null }>(`SELECT MAX(seq) AS seq FROM inbox`)
        .toArray()[0]?.seq ?? 0
    );
  }
}

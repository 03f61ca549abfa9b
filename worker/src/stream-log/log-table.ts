// internal: not exported. Reads and writes of one stream's log table. Every write path (sync
// pushes and EventStore appends) ends in `commit`, the only INSERT, so positions and recordedAt
// are assigned in exactly one place.
import type { AppendedEvent, ConfirmedEvent, NewEvent, ReadStreamOptions } from "@chronicle/core";

interface EventRow extends Record<string, SqlStorageValue> {
  position: number;
  recorded_at: number;
  body: string;
}

/** A stored event as JSON text (what frames are built from) with its position. */
export interface StoredEventText {
  position: number;
  json: string;
}

export class LogTable {
  constructor(private readonly storage: DurableObjectStorage) {}

  // Read from the table every time (an index lookup) rather than cached: no in-memory copy can
  // drift from what is committed, whichever instance of the object wrote last.
  #last(): { position: number; recorded_at: number } | undefined {
    return this.storage.sql
      .exec<{ position: number; recorded_at: number }>(
        `SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1`,
      )
      .toArray()[0];
  }

  get head(): number {
    return this.#last()?.position ?? 0;
  }

  get epoch(): string {
    return this.meta("epoch")!;
  }

  meta(key: string): string | undefined {
    return this.storage.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key)
      .toArray()[0]?.value;
  }

  setMeta(key: string, value: string): void {
    this.storage.sql.exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, key, value);
  }

  /** Where an already-stored event landed, by id. */
  lookup(id: string): AppendedEvent | undefined {
    const row = this.storage.sql
      .exec<{ position: number; recorded_at: number }>(
        `SELECT position, recorded_at FROM events WHERE id = ?`,
        id,
      )
      .toArray()[0];
    return row && { id, position: row.position, recordedAt: row.recorded_at };
  }

  /** An already-stored event by id: where it landed and its stored body (push-plan.ts). */
  stored(id: string): (AppendedEvent & { body: string }) | undefined {
    const row = this.storage.sql
      .exec<{ position: number; recorded_at: number; body: string }>(
        `SELECT position, recorded_at, body FROM events WHERE id = ?`,
        id,
      )
      .toArray()[0];
    return row && { id, position: row.position, recordedAt: row.recorded_at, body: row.body };
  }

  /** The `meta.actor` an already-stored event was stamped with. */
  actorOf(id: string): string | undefined {
    return (
      this.storage.sql
        .exec<{ actor: string | null }>(
          `SELECT json_extract(body, '$.meta.actor') AS actor FROM events WHERE id = ?`,
          id,
        )
        .toArray()[0]?.actor ?? undefined
    );
  }

  /**
   * Appends events at head+1.. in one transaction (rule 2) and returns where they landed.
   * `recordedAt` never decreases along the log, so temporal reads can cut it by time.
   * `actor`, when given, overwrites `meta.actor` (the node stamps the authenticated subject).
   */
  commit(events: readonly NewEvent[], now: number, actor?: string): AppendedEvent[] {
    if (events.length === 0) return [];
    const last = this.#last();
    const recordedAt = Math.max(now, last?.recorded_at ?? 0);
    const first = (last?.position ?? 0) + 1;
    this.storage.transactionSync(() => {
      events.forEach((event, index) => {
        const {
          position: _position,
          recordedAt: _recordedAt,
          ...envelope
        } = event as NewEvent & { position?: unknown; recordedAt?: unknown };
        const stamped =
          actor === undefined ? envelope : { ...envelope, meta: { ...envelope.meta, actor } };
        this.storage.sql.exec(
          `INSERT INTO events (position, id, recorded_at, body) VALUES (?, ?, ?, ?)`,
          first + index,
          event.id,
          recordedAt,
          JSON.stringify(stamped),
        );
      });
    });
    return events.map((event, index) => ({ id: event.id, position: first + index, recordedAt }));
  }

  /**
   * Events after `after` as JSON texts, at most `limit` of them and, past the first, at most
   * `maxBytes` of JSON in total, separating commas included (the caller passes what its frame's
   * envelope leaves: frames.ts eventsBudget).
   */
  readPage(after: number, limit: number, maxBytes: number): StoredEventText[] {
    const page: StoredEventText[] = [];
    let bytes = 0;
    const rows = this.storage.sql.exec<EventRow>(
      `SELECT position, recorded_at, body FROM events WHERE position > ? ORDER BY position LIMIT ?`,
      after,
      limit,
    );
    for (const row of rows) {
      const json = confirmedJson(row);
      // Frame limits count UTF-8 bytes; +1 for the comma between events.
      const size = utf8Length(json) + 1;
      if (page.length > 0 && bytes + size > maxBytes) break;
      page.push({ position: row.position, json });
      bytes += size;
    }
    return page;
  }

  /** The EventStore-style read (the store contract's `readStream`). */
  readStream(options: ReadStreamOptions): ConfirmedEvent[] {
    let last = this.head;
    if (options.toPosition !== undefined) last = Math.min(last, Math.max(0, options.toPosition));
    const untilTime = options.untilTime ?? Number.MAX_SAFE_INTEGER;
    const limit = options.limit ?? -1;
    if (limit === 0) return [];
    const backward = options.direction === "backward";
    const rows = backward
      ? this.storage.sql.exec<EventRow>(
          `SELECT position, recorded_at, body FROM events
           WHERE position <= ? AND recorded_at <= ? ORDER BY position DESC LIMIT ?`,
          Math.min(last, options.from ?? last),
          untilTime,
          limit,
        )
      : this.storage.sql.exec<EventRow>(
          `SELECT position, recorded_at, body FROM events
           WHERE position >= ? AND position <= ? AND recorded_at <= ? ORDER BY position LIMIT ?`,
          Math.max(1, options.from ?? 1),
          last,
          untilTime,
          limit,
        );
    return rows.toArray().map((row) => JSON.parse(confirmedJson(row)) as ConfirmedEvent);
  }
}

// The stored body is the envelope without node-owned fields; they are added on the way out.
function confirmedJson(row: EventRow): string {
  return `${row.body.slice(0, -1)},"position":${row.position},"recordedAt":${row.recorded_at}}`;
}

const encoder = new TextEncoder();
function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

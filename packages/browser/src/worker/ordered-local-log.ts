// internal: not exported. The worker's LocalLog: DexieLocalLog, except that dropping pending
// events keeps what the optimistic states check (optimistic-states.ts, invariant 2): the rows
// after the first dropped one are written again under new keys, as replacePending does, so a
// pending list that lost a row never keeps its last key.

import { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { PendingRow } from "../store/schema.ts";
import { restamp } from "../store/stream-stamps.ts";

export class OrderedLocalLog extends DexieLocalLog {
  override async dropPending(stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const db = this.store.db;
    await this.store.transaction(async () => {
      const wanted = new Set(ids);
      const rows = await this.tables.pending(stream);
      const first = rows.findIndex((row) => wanted.has(row.id));
      if (first < 0) return;
      const later = rows.slice(first);
      await db.pending.bulkDelete(later.map((row) => row.localSeq!));
      const kept: PendingRow[] = later
        .filter((row) => !wanted.has(row.id))
        .map(({ localSeq: _localSeq, ...row }) => row);
      if (kept.length > 0) await db.pending.bulkAdd(kept);
      await restamp(db, stream, this.stampOwner);
    }, `drop pending events of ${stream}`);
  }
}

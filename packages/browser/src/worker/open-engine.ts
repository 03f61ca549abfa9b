// How a worker's local engine is opened.
import { DexieEventStore } from "../store/dexie-store.ts";
import { openDatabase } from "../store/open-database.ts";
import { ChronicleEngine } from "./engine.ts";
import type { EngineOptions } from "./engine-options.ts";

/**
 * Opens the local engine: the database (reporting `blocked` while an old tab holds it), the
 * store with its in-transaction projection updater, and the leader election.
 *
 * @example
 * const engine = await openEngine({ name: "kanban", deciders: [board], projections: [boardView] });
 * await engine.execute("board:1", "board", { type: "addCard", title: "Write docs" });
 */
export async function openEngine(options: EngineOptions): Promise<ChronicleEngine> {
  const name = options.name ?? "chronicle";
  const status = options.onStatus ?? (() => {});
  const db = await openDatabase(name, {
    ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
    ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    onBlocked: () => status({ type: "blocked" }),
    onVersionChange: () => status({ type: "version-change" }),
  });
  const deviceId = String((await db.meta.get("device"))?.value ?? "unknown");
  return new ChronicleEngine(
    db.name,
    deviceId,
    options,
    new DexieEventStore({ db, ...(options.now ? { now: options.now } : {}) }),
  );
}

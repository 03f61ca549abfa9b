// internal: not exported. Opens a Chronicle database, saying so when an old tab blocks it.
import type { DexieOptions } from "dexie";
import { ChronicleDb } from "./schema.ts";
import { toStorageError } from "./storage-errors.ts";

/** How {@link openDatabase} opens the database, and whom it tells about other tabs. */
export interface OpenDatabaseOptions {
  /** IndexedDB implementation, e.g. fake-indexeddb's in Node. @default the global one */
  indexedDB?: DexieOptions["indexedDB"];
  /** IDBKeyRange matching `indexedDB`. @default the global one */
  IDBKeyRange?: DexieOptions["IDBKeyRange"];
  /**
   * Called when the open waits for another connection (an old tab, at an older schema version)
   * that does not close. The open completes once that tab closes or reloads.
   */
  onBlocked?: () => void;
  /**
   * Called when a newer version of the app upgrades the database from another tab. This
   * connection is closed so the upgrade can proceed: the app should ask the user to reload.
   */
  onVersionChange?: () => void;
}

/**
 * Opens (creating or upgrading) the database.
 *
 * @example
 * const db = await openDatabase("kanban", { onBlocked: () => showBanner("Close other tabs") });
 */
export async function openDatabase(
  name: string,
  options: OpenDatabaseOptions = {},
): Promise<ChronicleDb> {
  const dexieOptions: DexieOptions = {};
  if (options.indexedDB) dexieOptions.indexedDB = options.indexedDB;
  if (options.IDBKeyRange) dexieOptions.IDBKeyRange = options.IDBKeyRange;
  const db = new ChronicleDb(name, dexieOptions);
  db.on("blocked", () => options.onBlocked?.());
  db.on("versionchange", () => {
    db.close();
    options.onVersionChange?.();
    return false;
  });
  try {
    await db.open();
  } catch (error) {
    db.close();
    throw toStorageError(error, `open database ${name}`);
  }
  return db;
}

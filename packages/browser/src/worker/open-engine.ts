// What a worker's local engine is configured with, and how it is opened.
import type { AnyEventDefinition, Decider, Projection } from "@chronicle/core";
import type { DexieOptions } from "dexie";
import type { HostStatus } from "../shared/host-api.ts";
import { DexieEventStore } from "../store/dexie-store.ts";
import { openDatabase } from "../store/open-database.ts";
import { ChronicleEngine } from "./engine.ts";
import type { SyncStarter } from "./sync-seam.ts";

export interface UndoOptions {
  /** Consecutive commands closer than this merge into one undo step. @default 500 */
  captureWindowMs?: number;
  /** Oldest steps beyond this are forgotten. @default 100 */
  maxSteps?: number;
  /**
   * The stacks are saved this long after the last command (a burst is one write), and before
   * any undo, redo or close. A tab killed within it forgets the newest steps (never events).
   * @default 250
   */
  saveDelayMs?: number;
  /**
   * The label of a command's undo step ("Move card"), unless `execute` gives one.
   * @default the event types it wrote
   */
  labelOf?: (command: any, decider: string) => string | undefined;
}

export interface EngineOptions {
  /** The IndexedDB database name. @default "chronicle" */
  name?: string | undefined;
  /** Every event type the app writes with `append` (deciders and projections bring their own). */
  events?: readonly AnyEventDefinition[];
  deciders?: readonly Decider<any, any, any>[];
  projections?: readonly Projection<any, any>[];
  /**
   * Started by the leader only, stopped when leadership ends (see README: Sync). When set,
   * commands and appends write pending events and reads show the optimistic state.
   */
  sync?: SyncStarter | undefined;
  /** `meta.actor` of events written here. @default "anonymous" */
  actor?: string | undefined;
  /** Undo/redo of this actor's commands on this device (see README: Undo and redo). */
  undo?: UndoOptions;
  /** For Node tests: fake-indexeddb's factory and key range. */
  indexedDB?: DexieOptions["indexedDB"];
  IDBKeyRange?: DexieOptions["IDBKeyRange"];
  /** Clock for recordedAt and snapshots. @default Date.now */
  now?: () => number;
  onStatus?: ((status: HostStatus) => void) | undefined;
}

/**
 * Opens the local engine: the database (reporting `blocked` while an old tab holds it), the
 * store with its in-transaction projection updater, and the leader election.
 *
 * @example
 * const engine = await openEngine({ name: "kanban", deciders: [board], projections: [boardView] });
 * await engine.execute("board", "board:1", { type: "addCard", title: "Write docs" });
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

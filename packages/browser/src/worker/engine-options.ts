// What a worker's local engine is configured with (openEngine, and hostChronicle without
// `onStatus`).
import type { AnyEventDefinition, Decider, Projection, SyncStarter } from "@chronicle/core";
import type { Clock, Process, Reaction } from "@chronicle/core/process";
import type { DexieOptions } from "dexie";
import type { HostStatus } from "../shared/host-api.ts";

/** How a worker engine's undo manager records and keeps steps. */
export interface UndoOptions {
  /**
   * Consecutive commands with the same `mergeKey` closer than this merge into one undo step
   * (typing into one text field); other commands are steps of their own. @default 500
   */
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

/** What {@link openEngine} takes (and `hostChronicle`, without `onStatus`). */
export interface EngineOptions {
  /** The IndexedDB database name. @default "chronicle" */
  name?: string | undefined;
  /** Every event type the app writes with `append` (deciders and projections bring their own). */
  events?: readonly AnyEventDefinition[];
  /** The deciders commands run through, by name. */
  deciders?: readonly Decider<any, any, any>[];
  /** The projections kept current in the same transactions as the events that move them. */
  projections?: readonly Projection<any, any>[];
  /**
   * Started by the leader only, stopped when leadership ends (see README: Sync). When set,
   * commands and appends write pending events and reads show the optimistic state.
   */
  sync?: SyncStarter | undefined;
  /**
   * Processes (sagas) run by the leader tab's worker over the local log: one runner per
   * database, instances and deadlines kept in IndexedDB (see README: Processes). The deciders
   * their commands go to must be in `deciders`.
   */
  processes?: readonly Process[];
  /** Reactions (side effects) run by the leader tab's worker, at least once per event. */
  reactions?: readonly Reaction[];
  /** Time for process deadlines and reaction retries (tests move it). @default systemClock */
  processClock?: Clock;
  /** `meta.actor` of events written here. @default "anonymous" */
  actor?: string | undefined;
  /** Undo/redo of this actor's commands on this device (see README: Undo and redo). */
  undo?: UndoOptions;
  /** For Node tests: fake-indexeddb's factory and key range. */
  indexedDB?: DexieOptions["indexedDB"];
  /** For Node tests: fake-indexeddb's key range (with `indexedDB`). */
  IDBKeyRange?: DexieOptions["IDBKeyRange"];
  /** Clock for recordedAt and snapshots. @default Date.now */
  now?: () => number;
  /** Leadership changes, a database blocked by an old tab, projection errors, sync statuses. */
  onStatus?: ((status: HostStatus) => void) | undefined;
}

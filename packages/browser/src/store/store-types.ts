// The options and results of DexieEventStore (re-exported by the package entry points).
import type {
  AppendOptions,
  AppendResult,
  ConfirmedEvent,
  ProjectionRecord,
} from "@chronicle/core";
import type { DexieOptions } from "dexie";
import type { LogTail } from "./log-queries.ts";
import type { ChronicleDb } from "./schema.ts";

/** Runs inside an append's transaction after its events are written; a throw aborts it all. */
export type AppendHook = (
  stream: string,
  events: readonly ConfirmedEvent[],
  /** Projection records the caller already read in this transaction, by key. */
  prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>,
) => Promise<readonly ProjectionRecord[]>;

/** What `new DexieEventStore(options)` takes. */
export interface DexieEventStoreOptions {
  /** The IndexedDB database name; every tab using it shares one log. @default "chronicle" */
  name?: string;
  /** Use this database instead of opening one by name (the store then does not close it). */
  db?: ChronicleDb;
  /** IndexedDB implementation, e.g. fake-indexeddb's in Node. @default the global one */
  indexedDB?: DexieOptions["indexedDB"];
  /** IDBKeyRange matching `indexedDB`. @default the global one */
  IDBKeyRange?: DexieOptions["IDBKeyRange"];
  /** Clock for `recordedAt`; kept non-decreasing by the store. @default Date.now */
  now?: () => number;
  /** Events per page delivered to subscriptions. @default 500 */
  pageSize?: number;
  /** Tell other tabs and workers about commits (BroadcastChannel). @default true */
  broadcast?: boolean;
  /** Runs in every append's transaction (projection updates); see {@link AppendHook}. */
  onAppend?: AppendHook;
}

/** `write` options for callers that already know facts the store would otherwise read. */
export interface WriteOptions extends AppendOptions {
  /**
   * The stream's head, read earlier in the same transaction (so it cannot have moved). Saves a
   * read. Only valid inside {@link DexieEventStore.transaction}.
   */
  knownHead?: number;
  /**
   * The events' ids were generated just now (UUIDv7) and cannot be stored yet: skip the
   * idempotency lookup. Never set it for events that may be re-sent.
   */
  freshIds?: boolean;
  /** The log's tail, read earlier in the same transaction (`null`: the log is empty). */
  knownTail?: LogTail | null;
  /** Passed on to the append hook (see {@link AppendHook}). */
  prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>;
}

/** An append's result with what it wrote, for callers inside the engine. */
export interface WriteResult extends AppendResult {
  /** The events written (empty for a duplicate batch). */
  events: ConfirmedEvent[];
  /** Projection records the append hook updated in the same transaction. */
  projections: readonly ProjectionRecord[];
}

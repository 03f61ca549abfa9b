import type { SkippedEvents } from "../fold/skipped-events.ts";

/** A projection's persisted read model and how far it has folded. */
export interface ProjectionRecord<State = unknown> {
  /** `${projection name}/${source}`: one record per projection per stream (or per prefix). */
  key: string;
  /** The projection's name. */
  name: string;
  /** The projection version that built this state; a different version rebuilds. */
  version: number;
  /** The last checkpoint folded in (a stream position, or a global checkpoint for all streams). */
  checkpoint: number;
  /** The read model at `checkpoint`. */
  state: State;
  /**
   * Event types and versions folded past without being known (absent when none): code that
   * knows one of them now rebuilds the record instead of using it.
   */
  skipped?: SkippedEvents;
}

/** Where a projection runner persists its records (memory, IndexedDB, ...). */
export interface ProjectionStateStore {
  /** The record under `key`, or `undefined` when there is none. */
  get(key: string): Promise<ProjectionRecord | undefined>;
  /** Stores the record under its `key` (a shared store may keep a newer one it holds). */
  put(record: ProjectionRecord): Promise<void>;
}

/** ProjectionStateStore in memory; clones on the way in and out. */
export class MemoryProjectionStateStore implements ProjectionStateStore {
  readonly #records = new Map<string, ProjectionRecord>();

  async get(key: string): Promise<ProjectionRecord | undefined> {
    const record = this.#records.get(key);
    return record && structuredClone(record);
  }

  async put(record: ProjectionRecord): Promise<void> {
    this.#records.set(record.key, structuredClone(record));
  }
}

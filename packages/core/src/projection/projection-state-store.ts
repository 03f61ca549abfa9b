/** A projection's persisted read model and how far it has folded. */
export interface ProjectionRecord<State = unknown> {
  /** `${projection name}/${source}`: one record per projection per stream (or per prefix). */
  key: string;
  name: string;
  /** The projection version that built this state; a different version rebuilds. */
  version: number;
  /** The last checkpoint folded in (a stream position, or a global checkpoint for all streams). */
  checkpoint: number;
  state: State;
}

export interface ProjectionStateStore {
  get(key: string): Promise<ProjectionRecord | undefined>;
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

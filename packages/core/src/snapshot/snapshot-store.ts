/** A folded state saved at a stream position, for fast loads and temporal reads. */
export interface Snapshot<State = unknown> {
  /** `${kind}/${name}/${stream}` (`snapshotKey` of `@chronicle/core/store` builds it). */
  key: string;
  /** The last stream position folded into `state`. */
  position: number;
  /** The version of the decider or projection that produced it; other versions ignore it. */
  version: number;
  /** The folded state at `position`. */
  state: State;
  /** When it was taken (ms), informative. */
  takenAt: number;
}

/** Which snapshot {@link SnapshotStore.load} may return. */
export interface SnapshotLoadOptions {
  /** Only snapshots at or below this position (temporal reads). */
  maxPosition?: number;
  /** Only snapshots taken by this version of the definition. */
  version?: number;
}

/** Where snapshots live. Several per key are kept so temporal reads find one below any point. */
export interface SnapshotStore {
  /** Stores a snapshot; one at the same key and position is replaced. */
  save(snapshot: Snapshot): Promise<void>;
  /** The snapshot with the highest position matching the options. */
  load(key: string, options?: SnapshotLoadOptions): Promise<Snapshot | undefined>;
}

/**
 * The snapshot key of a decider's or projection's state over one stream.
 *
 * @example
 * snapshotKey("decider", "board", "board:1"); // "decider/board/board:1"
 */
export function snapshotKey(kind: "decider" | "projection", name: string, stream: string): string {
  return `${kind}/${name}/${stream}`;
}

/**
 * SnapshotStore in memory. States are cloned on save and on load, so later mutation of a live
 * state never changes a snapshot.
 *
 * @example
 * const snapshots = new MemorySnapshotStore();
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #byKey = new Map<string, Snapshot[]>();

  async save(snapshot: Snapshot): Promise<void> {
    const list = this.#byKey.get(snapshot.key) ?? [];
    const copy = structuredClone(snapshot);
    // Keep the list sorted by position; replace a snapshot at the same position.
    let index = list.length;
    while (index > 0 && list[index - 1]!.position > copy.position) index--;
    if (index > 0 && list[index - 1]!.position === copy.position) list[index - 1] = copy;
    else list.splice(index, 0, copy);
    this.#byKey.set(snapshot.key, list);
  }

  async load(key: string, options: SnapshotLoadOptions = {}): Promise<Snapshot | undefined> {
    const list = this.#byKey.get(key) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const snapshot = list[i]!;
      if (options.maxPosition !== undefined && snapshot.position > options.maxPosition) continue;
      if (options.version !== undefined && snapshot.version !== options.version) continue;
      return structuredClone(snapshot);
    }
    return undefined;
  }

  /** How many snapshots are held for a key (for tests and diagnostics). */
  count(key: string): number {
    return this.#byKey.get(key)?.length ?? 0;
  }
}

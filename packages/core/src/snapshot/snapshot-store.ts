import type { SkippedEvents } from "../fold/skipped-events.ts";

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
  /**
   * Event types and versions the fold skipped up to `position` because it did not know them
   * (absent when none). Code that knows one of them now does not use the snapshot.
   */
  skipped?: SkippedEvents;
}

/** Which snapshot {@link SnapshotStore.load} may return. */
export interface SnapshotLoadOptions {
  /** Only snapshots at or below this position (temporal reads). */
  maxPosition?: number;
  /** Only snapshots taken by this version of the definition. */
  version?: number;
}

/**
 * Where snapshots live. Several per key are kept so temporal reads find one below any point, but
 * not all: saving prunes the key's snapshots of older versions (superseded) and keeps only the
 * newest few of the saved version (see {@link snapshotsToPrune}).
 */
export interface SnapshotStore {
  /**
   * Stores a snapshot; one at the same key and position is replaced. Stores that prune do it
   * here, with {@link snapshotsToPrune}.
   */
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

/** How many snapshots of the current version a store keeps per key, by default. */
export const defaultSnapshotsKept = 3;

/**
 * Which of a key's snapshots to delete once `saved` is stored: those of an older version than
 * `saved` (superseded: no current code loads them), and those of its version beyond the newest
 * `keep` by position. Snapshots of a newer version (written by a newer tab) are left alone.
 *
 * @example
 * const doomed = snapshotsToPrune(await listOfKey(snapshot.key), snapshot, 3);
 */
export function snapshotsToPrune<S extends Pick<Snapshot, "position" | "version">>(
  existing: readonly S[],
  saved: Pick<Snapshot, "position" | "version">,
  keep: number = defaultSnapshotsKept,
): S[] {
  const doomed = existing.filter((snapshot) => snapshot.version < saved.version);
  const sameVersion = existing
    .filter((snapshot) => snapshot.version === saved.version)
    .sort((a, b) => b.position - a.position);
  return [...doomed, ...sameVersion.slice(Math.max(0, keep))];
}

/** What {@link MemorySnapshotStore} takes. */
export interface MemorySnapshotStoreOptions {
  /** Snapshots of the current version kept per key (older ones are pruned on save). @default 3 */
  keep?: number;
}

/**
 * SnapshotStore in memory. States are cloned on save and on load, so later mutation of a live
 * state never changes a snapshot.
 *
 * @example
 * const snapshots = new MemorySnapshotStore({ keep: 3 });
 */
export class MemorySnapshotStore implements SnapshotStore {
  readonly #byKey = new Map<string, Snapshot[]>();
  readonly #keep: number;

  constructor(options: MemorySnapshotStoreOptions = {}) {
    this.#keep = options.keep ?? defaultSnapshotsKept;
  }

  async save(snapshot: Snapshot): Promise<void> {
    let list = this.#byKey.get(snapshot.key) ?? [];
    const copy = structuredClone(snapshot);
    // Keep the list sorted by position; replace a snapshot at the same position.
    let index = list.length;
    while (index > 0 && list[index - 1]!.position > copy.position) index--;
    if (index > 0 && list[index - 1]!.position === copy.position) list[index - 1] = copy;
    else list.splice(index, 0, copy);
    const doomed = new Set(snapshotsToPrune(list, copy, this.#keep));
    if (doomed.size > 0) list = list.filter((kept) => !doomed.has(kept));
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

import type { RecordedEvent } from "../events/envelope.ts";

/** One undoable (or redoable) step: a change by this actor on this device. */
export interface UndoStep {
  /** The step's id. */
  id: string;
  /** What the UI shows: "Add card", "Move card". */
  label: string;
  /** The stream its events belong to. */
  stream: string;
  /** The decider whose events these are (its state is what inverses read). */
  decider: string;
  /** The step's events in the order they were written (for a redo step: the compensations). */
  events: RecordedEvent[];
  /** When the step last grew (ms): consecutive changes within the capture window merge. */
  at: number;
  /** Closed to merging: the step was moved by an undo or redo, so a new change starts its own. */
  sealed?: boolean;
  /** The `mergeKey` of the changes it holds: only a change with the same key merges into it. */
  mergeKey?: string;
  /**
   * The changes merged into it, in order: `events` is their events one after the other. Absent
   * on a step of one change (its label is the part's).
   */
  parts?: UndoPart[];
}

/** One change (command) of a merged step. */
export interface UndoPart {
  /** The change's own label. */
  label: string;
  /** How many of the step's events are its own (they follow the previous part's). */
  count: number;
}

/** One actor's undo and redo stacks on one device, newest step last. */
export interface UndoStacks {
  /** Steps `undo` takes back, newest last. */
  undo: UndoStep[];
  /** Steps `redo` applies again, newest last; a new change clears them. */
  redo: UndoStep[];
  /**
   * Set by the manager at each save (a new value every time): a manager whose stacks are at the
   * stored revision does not load them again (see {@link UndoStorage.revision}).
   */
  revision?: string;
}

/**
 * Where an undo manager keeps its stacks: local to the device, never synced. Storage shared by
 * several managers of the same actor and device (browser tabs) implements `exclusive` and
 * `watch`, so each manager works on the latest stacks and hears of the others' changes.
 */
export interface UndoStorage {
  /** The stacks saved under `key` (`${actor}/${device}`), or `undefined` before the first save. */
  load(key: string): Promise<UndoStacks | undefined>;
  /**
   * Replaces the stacks under `key`, atomically. `changed` names the steps that are new or
   * changed since the manager last loaded or saved them: the others are as stored, so a storage
   * that keeps steps one by one writes only these (and drops the steps no longer in `stacks`),
   * and a save costs the size of the change, not of the stacks. Absent: any step may have changed.
   */
  save(key: string, stacks: UndoStacks, changed?: ReadonlySet<string>): Promise<void>;
  /**
   * The `revision` of the stacks stored under `key` (`undefined` when none, or unknown). A
   * manager holding stacks at that revision skips `load` (a cheap read replaces a full one);
   * without it, the manager loads the stacks before each operation on shared storage.
   */
  revision?(key: string): Promise<string | undefined>;
  /**
   * Runs `work` while no other manager on `key` runs one (a cross-context lock); the manager
   * reloads the stacks first thing inside it.
   */
  exclusive?<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Calls `listener` when another context saved the stacks of `key`; returns the unwatch. */
  watch?(key: string, listener: () => void): () => void;
}

/**
 * UndoStorage in memory. One instance shared by several managers (as across reloads or tabs in
 * tests) behaves like shared storage: operations take turns and every manager hears of saves.
 */
export class MemoryUndoStorage implements UndoStorage {
  readonly #stacks = new Map<string, UndoStacks>();
  readonly #turns = new Map<string, Promise<unknown>>();
  readonly #watchers = new Map<string, Set<() => void>>();

  async load(key: string): Promise<UndoStacks | undefined> {
    const stacks = this.#stacks.get(key);
    return stacks && structuredClone(stacks);
  }

  async save(key: string, stacks: UndoStacks, changed?: ReadonlySet<string>): Promise<void> {
    // Copies the new and changed steps only: the stored ones are never changed in place (a load
    // hands out copies), so a save costs the change, not the stacks.
    const before = this.#stacks.get(key);
    const stored = new Map(
      before ? [...before.undo, ...before.redo].map((step) => [step.id, step] as const) : [],
    );
    const copy = (step: UndoStep): UndoStep => {
      const kept = stored.get(step.id);
      return kept && changed !== undefined && !changed.has(step.id) ? kept : structuredClone(step);
    };
    const saved: UndoStacks = { undo: stacks.undo.map(copy), redo: stacks.redo.map(copy) };
    if (stacks.revision !== undefined) saved.revision = stacks.revision;
    this.#stacks.set(key, saved);
    for (const watcher of [...(this.#watchers.get(key) ?? [])]) watcher();
  }

  async revision(key: string): Promise<string | undefined> {
    return this.#stacks.get(key)?.revision;
  }

  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#turns.get(key) ?? Promise.resolve()).then(work);
    this.#turns.set(
      key,
      run.catch(() => {}),
    );
    return run;
  }

  watch(key: string, listener: () => void): () => void {
    const watchers = this.#watchers.get(key) ?? new Set();
    this.#watchers.set(key, watchers);
    watchers.add(listener);
    return () => watchers.delete(listener);
  }
}

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
}

/**
 * Where an undo manager keeps its stacks: local to the device, never synced. Storage shared by
 * several managers of the same actor and device (browser tabs) implements `exclusive` and
 * `watch`, so each manager works on the latest stacks and hears of the others' changes.
 */
export interface UndoStorage {
  /** The stacks saved under `key` (`${actor}/${device}`), or `undefined` before the first save. */
  load(key: string): Promise<UndoStacks | undefined>;
  /** Replaces the stacks under `key`. */
  save(key: string, stacks: UndoStacks): Promise<void>;
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

  async save(key: string, stacks: UndoStacks): Promise<void> {
    this.#stacks.set(key, structuredClone(stacks));
    for (const watcher of [...(this.#watchers.get(key) ?? [])]) watcher();
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

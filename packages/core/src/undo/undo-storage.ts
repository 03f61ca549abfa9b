import type { RecordedEvent } from "../events/envelope.ts";

/** One undoable (or redoable) step: a change by this actor on this device. */
export interface UndoStep {
  id: string;
  /** What the UI shows: "Add card", "Move card". */
  label: string;
  stream: string;
  /** The decider whose events these are (its state is what inverses read). */
  decider: string;
  /** The step's events in the order they were written (for a redo step: the compensations). */
  events: RecordedEvent[];
  /** When the step last grew (ms): consecutive changes within the capture window merge. */
  at: number;
}

export interface UndoStacks {
  undo: UndoStep[];
  redo: UndoStep[];
}

/** Where an undo manager keeps its stacks: local to the device, never synced. */
export interface UndoStorage {
  load(key: string): Promise<UndoStacks | undefined>;
  save(key: string, stacks: UndoStacks): Promise<void>;
}

/** UndoStorage in memory (one instance shared across reloads in tests). */
export class MemoryUndoStorage implements UndoStorage {
  readonly #stacks = new Map<string, UndoStacks>();

  async load(key: string): Promise<UndoStacks | undefined> {
    const stacks = this.#stacks.get(key);
    return stacks && structuredClone(stacks);
  }

  async save(key: string, stacks: UndoStacks): Promise<void> {
    this.#stacks.set(key, structuredClone(stacks));
  }
}

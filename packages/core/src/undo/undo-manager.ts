// Undo/redo by compensating events. Invariants:
// 1. Events are facts: undo and redo only append (compensations carry meta.undoOf, re-applications
//    meta.redoOf); nothing is deleted or rewritten.
// 2. Inverses are computed against the CURRENT state, so other actors' later changes survive an
//    undo (selective undo); an inverse that no longer applies skips its step with a reason.
// 3. A step is what the user did as one thing: one command, consecutive commands with the same
//    merge key closer than the capture window (typing into one text field), or an app's group.
//    Distinct commands are distinct steps, whatever their timing. A step's parts (its commands)
//    are inverted in reverse order and the inverses appended atomically; a part that no longer
//    applies is left out and reported, the others are still undone.
// 4. The stacks belong to one actor on one device, persist locally, and never sync. Managers
//    sharing a storage (tabs of one device) work on them one at a time, each on the latest copy.
// 5. Once disposed, a manager starts no storage work of its own accord: it no longer follows other
//    contexts (a reload one asked for earlier is dropped if its turn comes later), takes no new
//    operation, and only `flush` still saves, after every operation called before. Its owner can
//    close the storage once that flush settles: nothing touches the storage afterwards.
import type { Decider } from "../decider/define-decider.ts";
import { ChronicleError } from "../errors.ts";
import type { EventInput, UndoSkip } from "../events/define-event.ts";
import { createEnvelope, type RecordedEvent } from "../events/envelope.ts";
import { uuidv7 } from "../ids.ts";
import type { UndoHost } from "./undo-host.ts";
import {
  MemoryUndoStorage,
  type UndoPart,
  type UndoStacks,
  type UndoStep,
  type UndoStorage,
} from "./undo-storage.ts";

/** What {@link createUndoManager} takes. */
export interface UndoManagerOptions {
  /** Where the manager reads states and appends compensations. */
  host: UndoHost;
  /** Whose changes this manager undoes; other actors' events are never recorded. */
  actor: string;
  /** This installation's id: only its changes are recorded, and the stacks are per device. */
  device: string;
  /** The deciders whose events may be undone (their states feed the inverses). */
  deciders: readonly Decider[];
  /** Where the stacks persist. @default a MemoryUndoStorage */
  storage?: UndoStorage;
  /**
   * Consecutive changes with the same `mergeKey` (see {@link RecordOptions}) closer than this
   * merge into one step. Changes without a key never merge (except inside a `group`).
   * @default 500
   */
  captureWindowMs?: number;
  /** Oldest steps beyond this are forgotten. @default 100 */
  maxSteps?: number;
  /**
   * Save recorded steps this long after the last `record` (coalescing a burst of commands into
   * one write) instead of before `record` resolves. `undo`, `redo`, `clear` and `flush` save
   * what is waiting first. A step recorded less than this before the device stops is lost (its
   * events are not). With a delay, the step is also applied in a later task, so that the caller
   * of `record` finishes its own work first; operations still run in the order called.
   * @default 0 (save before `record` resolves)
   */
  saveDelayMs?: number;
  /** Clock for the capture window and step times. @default Date.now */
  now?: () => number;
}

/** How {@link UndoManager.record} files a change. */
export interface RecordOptions {
  /** What the UI shows for it ("Move card"). @default the event types */
  label?: string;
  /**
   * Changes that belong together share a key (typing into one text field: `bindTextDoc` uses
   * the field and key): consecutive changes with the same key on the same stream, closer than
   * the capture window, merge into one step. Without a key a change is a step of its own.
   */
  mergeKey?: string;
}

/** A part of a merged step that undo (or redo) left out, because it no longer applies. */
export interface SkippedPart {
  /** The part's own label. */
  label: string;
  /** Why, from the inverse's `{ skip }`. */
  reason: string;
}

/** What undo() or redo() did. */
export type UndoOutcome =
  | {
      /** The step was undone (or redone), wholly or in part. */
      status: "done";
      /** The step's label. */
      label: string;
      /** The compensating (or re-applying) events, as appended. */
      events: RecordedEvent[];
      /** The parts of a merged step that no longer applied and were left out (absent: none). */
      skipped?: SkippedPart[];
    }
  | {
      /** The step no longer applies: it was dropped, nothing was appended. */
      status: "skipped";
      /** The step's label. */
      label: string;
      /** Why, from the inverse's `{ skip }` (of each part, for a merged step). */
      reason: string;
      /** Each part left out, with its reason (a step of one change: that change). */
      skipped: SkippedPart[];
    }
  | {
      /** There was no step to undo (or redo). */
      status: "empty";
    };

/** What an undo/redo UI shows. */
export interface UndoState {
  /** There is a step to undo. */
  canUndo: boolean;
  /** There is a step to redo. */
  canRedo: boolean;
  /** The label of the step `undo` would undo ("Move card"). */
  undoLabel?: string;
  /** The label of the step `redo` would redo. */
  redoLabel?: string;
}

/**
 * Creates an undo manager for one actor on one device.
 *
 * @example
 * const undo = createUndoManager({ host: createStoreUndoHost(store), actor: "alice", device: "laptop", deciders: [board] });
 * const { events } = await handle("board:1", { type: "moveCard", id: "c1", to: "done" });
 * await undo.record("board:1", board, events, { label: "Move card" });
 * undo.subscribe(({ canUndo, undoLabel }) => render(canUndo, undoLabel));
 * const outcome = await undo.undo(); // { status: "done" } or { status: "skipped", reason }
 */
export function createUndoManager(options: UndoManagerOptions): UndoManager {
  return new UndoManager(options);
}

/**
 * Undo and redo by compensating events for one actor on one device, with persistent stacks.
 * Create one with {@link createUndoManager}.
 */
export class UndoManager {
  /** Resolves once the persisted stacks are loaded. */
  readonly ready: Promise<void>;
  readonly #host: UndoHost;
  readonly #actor: string;
  readonly #device: string;
  readonly #deciders: Map<string, Decider>;
  readonly #storage: UndoStorage;
  readonly #key: string;
  readonly #window: number;
  readonly #maxSteps: number;
  readonly #now: () => number;
  readonly #listeners = new Set<(state: UndoState) => void>();
  #stacks: UndoStacks = { undo: [], redo: [] };
  #group: { label: string; stepId?: string } | undefined;
  #chain: Promise<unknown>;
  readonly #unwatch: () => void;
  readonly #saveDelay: number;
  /** Recorded steps not saved yet, as changes to re-apply to freshly loaded stacks. */
  #unsaved: ((stacks: UndoStacks) => void)[] = [];
  /** The ids of the steps added or changed since the stacks were last loaded or saved. */
  #changed = new Set<string>();
  /** The stored revision the stacks in memory continue (`undefined`: load before using them). */
  #revision: string | undefined;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(options: UndoManagerOptions) {
    this.#host = options.host;
    this.#actor = options.actor;
    this.#device = options.device;
    this.#deciders = new Map(options.deciders.map((decider) => [decider.name, decider]));
    this.#storage = options.storage ?? new MemoryUndoStorage();
    this.#key = `${options.actor}/${options.device}`;
    this.#window = options.captureWindowMs ?? 500;
    this.#maxSteps = options.maxSteps ?? 100;
    this.#now = options.now ?? Date.now;
    this.#saveDelay = options.saveDelayMs ?? 0;
    this.ready = this.#reload().then(() => this.#notify());
    this.#chain = this.ready;
    // Another context (tab) changed the shared stacks: take its copy.
    this.#unwatch = this.#storage.watch?.(this.#key, () => this.#follow()) ?? (() => {});
  }

  /** What an undo/redo UI shows now. */
  get state(): UndoState {
    const state: UndoState = {
      canUndo: this.#stacks.undo.length > 0,
      canRedo: this.#stacks.redo.length > 0,
    };
    const undoLabel = this.#stacks.undo.at(-1)?.label;
    const redoLabel = this.#stacks.redo.at(-1)?.label;
    if (undoLabel !== undefined) state.undoLabel = undoLabel;
    if (redoLabel !== undefined) state.redoLabel = redoLabel;
    return state;
  }

  /** Calls `listener` now and after every change of the stacks. */
  subscribe(listener: (state: UndoState) => void): () => void {
    this.#listeners.add(listener);
    listener(this.state);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Records a change by this actor (the events one command produced). Events of other actors or
   * devices are ignored. Clears the redo stack.
   */
  record(
    stream: string,
    decider: Decider,
    events: readonly RecordedEvent[],
    options: RecordOptions = {},
  ): Promise<void> {
    if (this.#disposed) return Promise.reject(disposedError());
    const mine = events.filter(
      (event) => event.meta.actor === this.#actor && event.meta.device === this.#device,
    );
    if (mine.length === 0) return this.#chain.then(() => {});
    const change = (now: number, group: { label: string; stepId?: string } | undefined) => {
      // Everything the change depends on is fixed here, so it gives the same result when it is
      // applied again to stacks loaded later (another tab may have saved meanwhile). The events
      // are copied once, here: the stacks change their steps' arrays and fields, never an event,
      // so each application shares the copied events and copies the arrays it may change.
      const partLabel = options.label ?? labelOf(mine);
      const step: UndoStep = {
        id: uuidv7(),
        label: group?.label ?? partLabel,
        stream,
        decider: decider.name,
        events: structuredClone(mine),
        at: now,
      };
      if (group) step.parts = [{ label: partLabel, count: mine.length }];
      else if (options.mergeKey !== undefined) step.mergeKey = options.mergeKey;
      const groupStep = group?.stepId;
      if (group && groupStep === undefined) group.stepId = step.id;
      return (stacks: UndoStacks) => {
        const top = stacks.undo.at(-1);
        const sameTarget =
          top !== undefined && top.stream === stream && top.decider === decider.name;
        // (A step another tab saved meanwhile may be newer than this change: no merge.)
        const elapsed = sameTarget ? now - top.at : -1;
        const merge =
          sameTarget &&
          top.sealed !== true &&
          (group
            ? groupStep === top.id
            : options.mergeKey !== undefined &&
              top.mergeKey === options.mergeKey &&
              elapsed >= 0 &&
              elapsed < this.#window);
        if (merge) {
          this.#changed.add(top.id);
          const parts = partsOf(top);
          parts.push({ label: partLabel, count: mine.length });
          top.parts = parts;
          if (!group) top.label = [...new Set(parts.map((part) => part.label))].join(", ");
          top.events.push(...step.events);
          top.at = now;
        } else {
          stacks.undo.push({ ...step, events: [...step.events] });
          this.#changed.add(step.id);
          if (stacks.undo.length > this.#maxSteps) stacks.undo.shift();
        }
        stacks.redo = [];
      };
    };
    if (this.#saveDelay <= 0) {
      return this.#serial(async () => {
        change(this.#now(), this.#group)(this.#stacks);
        await this.#save();
      });
    }
    // Deferred: applied in a task of its own (after whatever the caller does next with the
    // command's result, such as replying to a UI thread), in order with the other operations and
    // without storage I/O; saved with the others once recording pauses.
    const at = this.#now();
    const run = this.#chain.then(nextTask).then(() => {
      const apply = change(at, this.#group);
      apply(this.#stacks);
      this.#unsaved.push(apply);
      this.#cancelSave();
      // Disposed meanwhile: the owner's `flush` saves it (no timer outlives the manager).
      if (this.#disposed) return;
      this.#saveTimer = setTimeout(() => void this.flush().catch(() => {}), this.#saveDelay);
    });
    this.#chain = run.catch(() => {});
    return run.finally(() => this.#notify());
  }

  /**
   * Saves the recorded steps that wait for `saveDelayMs` now, after every operation called
   * before. Also after {@link dispose}: the last storage work of a disposed manager.
   */
  flush(): Promise<void> {
    this.#cancelSave();
    return this.#serial(
      async () => {
        if (this.#unsaved.length > 0) await this.#save();
      },
      { afterDispose: true },
    );
  }

  /** Runs `work` with every change it records merged into one step labelled `label`. */
  async group<T>(label: string, work: () => Promise<T>): Promise<T> {
    await this.#serial(async () => {
      this.#group = { label };
    });
    try {
      return await work();
    } finally {
      await this.#serial(async () => {
        this.#group = undefined;
      });
    }
  }

  /** Compensates this actor's latest step against the current state. */
  undo(): Promise<UndoOutcome> {
    return this.#serial(() => this.#apply("undo"));
  }

  /** Re-applies the latest undone step against the current state. */
  redo(): Promise<UndoOutcome> {
    return this.#serial(() => this.#apply("redo"));
  }

  /** Forgets both stacks. */
  clear(): Promise<void> {
    return this.#serial(async () => {
      this.#stacks = { undo: [], redo: [] };
      this.#changed.clear();
      await this.#save();
    });
  }

  /**
   * Stops following other contexts' changes and takes no new operation: `record`, `undo`,
   * `redo`, `clear` and `group` called later reject (code `internal`) without touching the
   * storage. To keep the recorded steps that wait for `saveDelayMs` and close the storage
   * safely, call `flush` after `dispose` and await it: it runs after every operation called
   * before, and nothing touches the storage once it settles.
   */
  dispose(): void {
    this.#disposed = true;
    this.#cancelSave();
    this.#unwatch();
    this.#listeners.clear();
  }

  async #apply(direction: "undo" | "redo"): Promise<UndoOutcome> {
    const from = direction === "undo" ? this.#stacks.undo : this.#stacks.redo;
    const step = from.at(-1);
    if (!step) return { status: "empty" };
    const marker = direction === "undo" ? "undoOf" : "redoOf";
    const decider = this.#deciders.get(step.decider);
    const parts = partsOf(step);
    const skipped: SkippedPart[] = [];
    const done: { label: string; events: RecordedEvent[] }[] = [];
    if (!decider) {
      skipped.push({ label: step.label, reason: `no decider "${step.decider}" is registered` });
    } else {
      // The parts in reverse order, each against the state the later ones' inverses left.
      let now = await this.#host.currentState(decider, step.stream);
      let end = step.events.length;
      for (const part of [...parts].reverse()) {
        const events = step.events.slice(end - part.count, end);
        end -= part.count;
        const result = await this.#compensate(decider, step.stream, events, marker, now);
        if ("skip" in result) skipped.push({ label: part.label, reason: result.skip });
        else {
          now = result.now;
          done.push({ label: part.label, events: result.events });
        }
      }
      skipped.reverse();
    }
    from.pop();
    if (done.length === 0) {
      await this.#save();
      const reason =
        skipped.length === 1
          ? (skipped[0]?.reason ?? "")
          : skipped.map((part) => `${part.label}: ${part.reason}`).join("; ");
      return { status: "skipped", label: step.label, reason, skipped };
    }
    const recorded = await this.#host.append(
      step.stream,
      done.flatMap((part) => part.events),
    );
    const opposite = direction === "undo" ? this.#stacks.redo : this.#stacks.undo;
    const moved: UndoStep = {
      ...step,
      id: uuidv7(),
      events: structuredClone(recorded),
      at: this.#now(),
      sealed: true,
    };
    delete moved.parts;
    if (done.length > 1) {
      moved.parts = done.map((part) => ({ label: part.label, count: part.events.length }));
    }
    opposite.push(moved);
    this.#changed.add(moved.id);
    await this.#save();
    const outcome: UndoOutcome = { status: "done", label: step.label, events: recorded };
    if (skipped.length > 0) outcome.skipped = skipped;
    return outcome;
  }

  // The inverses of one part's events, newest first, against `now` (the current state).
  async #compensate(
    decider: Decider,
    stream: string,
    events: readonly RecordedEvent[],
    marker: "undoOf" | "redoOf",
    start: unknown,
  ): Promise<{ events: RecordedEvent[]; now: unknown } | UndoSkip> {
    let now = start;
    const out: RecordedEvent[] = [];
    for (const event of [...events].reverse()) {
      const before = await this.#host.stateBefore(decider, stream, event);
      if (before === undefined) return { skip: "the change is no longer in the log" };
      const current = decider.registry.upcast(event);
      const definition = decider.registry.definitions.get(event.type);
      if (!current || !definition?.invert) return { skip: `"${event.type}" cannot be undone` };
      const inverse = definition.invert(current, {
        before: structuredClone(before),
        now: structuredClone(now),
      });
      if (isSkip(inverse)) return inverse;
      const inputs: readonly EventInput[] = Array.isArray(inverse)
        ? inverse
        : [inverse as EventInput];
      for (const input of inputs) {
        const compensation = createEnvelope(stream, decider.registry.validate(input), {
          actor: this.#actor,
          device: this.#device,
          correlationId: event.meta.correlationId,
          causationId: event.id,
        });
        // A redo re-applies the original events, which the undone compensation names.
        compensation.meta[marker] =
          marker === "redoOf" ? (event.meta.undoOf ?? [event.id]) : [event.id];
        now = decider.apply(now, compensation);
        out.push(compensation);
      }
    }
    return { events: out, now };
  }

  // One operation at a time; with shared storage, under its lock and on the latest stacks. Once
  // disposed, only a flush is taken (see invariant 5).
  #serial<T>(work: () => Promise<T>, options: { afterDispose?: boolean } = {}): Promise<T> {
    if (this.#disposed && options.afterDispose !== true) {
      return Promise.reject(disposedError());
    }
    const storage = this.#storage;
    // A failed operation may have changed the stacks in memory without saving them: the next one
    // loads them again (as stored) instead of continuing from memory.
    const guarded = () =>
      work().catch((error: unknown) => {
        this.#revision = undefined;
        throw error;
      });
    const run = this.#chain.then(() =>
      storage.exclusive
        ? storage.exclusive(this.#key, async () => {
            await this.#reload();
            return guarded();
          })
        : guarded(),
    );
    this.#chain = run.catch(() => {});
    return run.finally(() => this.#notify());
  }

  // Takes the copy another context saved, at this manager's turn. Dropped if the manager is
  // disposed by then (checked again under the lock, which is granted later): its owner may have
  // closed the storage, and the next operation loads the stacks anyway.
  #follow(): void {
    const storage = this.#storage;
    const reload = async () => {
      if (!this.#disposed) await this.#reload();
    };
    const run = this.#chain.then(() => {
      // (A storage without `exclusive` is not shared: its stacks in memory are the latest.)
      if (!this.#disposed) return storage.exclusive?.(this.#key, reload);
    });
    this.#chain = run.catch(() => {});
    void run.finally(() => this.#notify()).catch(() => {});
  }

  #cancelSave(): void {
    if (this.#saveTimer !== undefined) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
  }

  // The stored stacks, with the recorded steps not saved yet applied again on top. Stacks in
  // memory that continue the stored revision are those already: only another context's save
  // (a new revision) costs a full load.
  async #reload(): Promise<void> {
    if (this.#revision !== undefined && this.#storage.revision) {
      if ((await this.#storage.revision(this.#key)) === this.#revision) return;
    }
    const stacks = await this.#storage.load(this.#key);
    if (!stacks) return;
    this.#revision = stacks.revision;
    this.#changed = new Set();
    for (const apply of this.#unsaved) apply(stacks);
    this.#stacks = stacks;
  }

  // Writes what changed since the last load or save (a storage that keeps steps one by one
  // writes the new and changed steps only: a save costs the change, not the whole stacks).
  async #save(): Promise<void> {
    const revision = uuidv7();
    this.#stacks.revision = revision;
    try {
      await this.#storage.save(this.#key, this.#stacks, new Set(this.#changed));
    } catch (error) {
      // What is stored is unknown now: the next operation loads it again.
      this.#revision = undefined;
      throw error;
    }
    this.#revision = revision;
    this.#changed = new Set();
    this.#unsaved = [];
  }

  #notify(): void {
    const state = this.state;
    for (const listener of this.#listeners) listener(state);
  }
}

function isSkip(value: unknown): value is UndoSkip {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as UndoSkip).skip === "string"
  );
}

/** A step's parts; a step of one change is one part. */
function partsOf(step: UndoStep): UndoPart[] {
  return step.parts ? [...step.parts] : [{ label: step.label, count: step.events.length }];
}

function labelOf(events: readonly RecordedEvent[]): string {
  return [...new Set(events.map((event) => event.type))].join(", ");
}

function disposedError(): ChronicleError {
  return new ChronicleError("internal", "the undo manager is disposed");
}

/** Resolves in a later task (lets the current task's work, e.g. a reply, go first). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// internal: not exported. Undo/redo in the worker: core's UndoManager over this database.
// Invariants:
// 1. The stacks live in the `meta` table, shared by the device's tabs: every operation runs under
//    a Web Lock on the latest stacks, and a save tells the other tabs (BroadcastChannel), whose
//    managers reload. They never sync.
// 2. One row per step (`undo/<actor>/<device>/step/<id>`) and a head row (`undo/<actor>/<device>`:
//    the steps' ids in order and the revision), so that a save writes the steps that changed, not
//    every step's events: the stacks hold up to `maxSteps` steps of any size, and a save after
//    each command must not grow with them. A save writes its rows and the head in one
//    transaction: a crash leaves the stacks as they were before it or after it, never between.
//    Heads saved before step rows existed (the steps inline) are read as they are, and replaced
//    by the first save.
// 3. Compensations are written like any local write: with sync, as pending events (meta.undoOf /
//    meta.redoOf kept) that the leader pushes; without, appended with the projection updates
//    they cause in one transaction.
// 4. States are read in one transaction, so an event moving from pending to confirmed meanwhile
//    is neither missed nor counted twice. An event in neither table (refused by the node, or
//    dropped by an epoch reset) is "no longer in the log": its step is skipped.
import {
  type Decider,
  foldEvents,
  initialStateOf,
  loadState,
  type RecordedEvent,
  type SnapshotStore,
  type UndoHost,
  type UndoStacks,
  type UndoStep,
  type UndoStorage,
} from "@chronicle/core";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Undo stacks in the database's meta table, shared by the tabs of this device. */
export class DexieUndoStorage implements UndoStorage {
  readonly #store: DexieEventStore;
  readonly #lockPrefix: string;
  readonly #channel: BroadcastChannel | undefined;
  readonly #watchers = new Map<string, Set<() => void>>();
  // Without Web Locks (Node tests) this context is the only one: take turns in process.
  #turn: Promise<unknown> = Promise.resolve();

  constructor(store: DexieEventStore, name: string) {
    this.#store = store;
    this.#lockPrefix = `chronicle-undo:${name}:`;
    this.#channel =
      typeof BroadcastChannel === "function"
        ? new BroadcastChannel(`chronicle-undo:${name}`)
        : undefined;
    if (this.#channel) {
      this.#channel.onmessage = (message: MessageEvent<{ key?: unknown }>) => {
        const key = message.data?.key;
        if (typeof key !== "string") return;
        for (const watcher of [...(this.#watchers.get(key) ?? [])]) watcher();
      };
    }
  }

  async load(key: string): Promise<UndoStacks | undefined> {
    const { meta } = this.#store.db;
    // One read-only transaction per row, not the whole stacks in one: a command's transaction
    // (read-write over every table, `meta` included) waits for every transaction on `meta` begun
    // before it, so the first command after a cold open waited for every step's events to be
    // read (100,000 of them: about a second in Chromium); now for one step. The head is read
    // before and after the steps: each save writes a new revision with its rows, so the same
    // revision twice means the steps are as one save left them (else read again).
    for (;;) {
      const head = (await meta.get(headKey(key)))?.value as StoredHead | UndoStacks | undefined;
      if (!head || !isStepHead(head)) return head;
      const steps = new Map<string, UndoStep>();
      for (const id of [...head.undoIds, ...head.redoIds]) {
        const step = (await meta.get(stepKey(key, id)))?.value as UndoStep | undefined;
        if (step) steps.set(step.id, step);
      }
      const after = (await meta.get(headKey(key)))?.value as StoredHead | UndoStacks | undefined;
      if (!after || !isStepHead(after) || after.revision !== head.revision) continue;
      const pick = (list: readonly string[]) =>
        list.flatMap((id) => {
          const step = steps.get(id);
          return step ? [step] : [];
        });
      return { undo: pick(head.undoIds), redo: pick(head.redoIds), revision: head.revision };
    }
  }

  async revision(key: string): Promise<string | undefined> {
    const head = (await this.#store.db.meta.get(headKey(key)))?.value as
      | StoredHead
      | UndoStacks
      | undefined;
    return head && isStepHead(head) ? head.revision : undefined;
  }

  async save(key: string, stacks: UndoStacks, changed?: ReadonlySet<string>): Promise<void> {
    const { meta } = this.#store.db;
    await this.#store.transaction(async () => {
      const before = (await meta.get(headKey(key)))?.value as StoredHead | UndoStacks | undefined;
      const stored = new Set(
        before && isStepHead(before) ? [...before.undoIds, ...before.redoIds] : [],
      );
      const steps = [...stacks.undo, ...stacks.redo];
      const kept = new Set(steps.map((step) => step.id));
      // A step not in the stored head is written whatever `changed` says (it is not stored).
      const writes = steps.filter(
        (step) => !stored.has(step.id) || changed === undefined || changed.has(step.id),
      );
      const head: StoredHead = {
        undoIds: stacks.undo.map((step) => step.id),
        redoIds: stacks.redo.map((step) => step.id),
        revision: stacks.revision ?? crypto.randomUUID(),
      };
      await Promise.all([
        meta.bulkPut(writes.map((step) => ({ key: stepKey(key, step.id), value: step }))),
        meta.bulkDelete([...stored].filter((id) => !kept.has(id)).map((id) => stepKey(key, id))),
        meta.put({ key: headKey(key), value: head }),
      ]);
    }, "save the undo stacks");
    this.#channel?.postMessage({ key });
  }

  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
    if (locks) return locks.request(`${this.#lockPrefix}${key}`, work);
    const run = this.#turn.then(work);
    this.#turn = run.catch(() => {});
    return run;
  }

  watch(key: string, listener: () => void): () => void {
    const watchers = this.#watchers.get(key) ?? new Set();
    this.#watchers.set(key, watchers);
    watchers.add(listener);
    return () => watchers.delete(listener);
  }

  close(): void {
    this.#watchers.clear();
    this.#channel?.close();
  }
}

/** The head row of a device's stacks: the steps' ids, newest last, and the revision saved. */
interface StoredHead {
  undoIds: string[];
  redoIds: string[];
  revision: string;
}

const headKey = (key: string) => `undo/${key}`;
const stepKey = (key: string, id: string) => `undo/${key}/step/${id}`;

/** A head of step rows (not stacks saved whole, as before step rows). */
function isStepHead(value: StoredHead | UndoStacks): value is StoredHead {
  return Array.isArray((value as StoredHead).undoIds);
}

export interface EngineUndoDeps {
  local: DexieLocalLog;
  snapshots: SnapshotStore;
  /** With sync: states are optimistic and compensations are written as pending events. */
  sync: boolean;
  /** Writes compensations when there is no sync (the engine's append, which keeps envelopes). */
  appendConfirmed: (stream: string, events: readonly RecordedEvent[]) => Promise<RecordedEvent[]>;
  /** Writes compensations as pending events (sync). */
  appendPending: (stream: string, events: readonly RecordedEvent[]) => Promise<void>;
}

/** The UndoHost of a worker engine: states from this database, writes through the engine. */
export function createEngineUndoHost(deps: EngineUndoDeps): UndoHost {
  const { local, snapshots } = deps;
  const store = local.store;
  const confirmedState = async (decider: Decider, stream: string, maxPosition?: number) =>
    (
      await loadState(store, decider, stream, {
        snapshots,
        ...(maxPosition === undefined ? {} : { maxPosition }),
      })
    ).state;
  return {
    stateBefore: (decider, stream, event) =>
      store.transaction(async () => {
        const confirmed = await store.db.events.get([stream, event.id]);
        if (confirmed) {
          if (confirmed.position === 1) return initialStateOf(decider);
          return confirmedState(decider, stream, confirmed.position - 1);
        }
        if (!deps.sync) return undefined;
        const pending = await local.tables.pending(stream);
        const index = pending.findIndex((row) => row.id === event.id);
        if (index < 0) return undefined;
        return foldEvents(
          decider,
          await confirmedState(decider, stream),
          pending.slice(0, index).map((row) => row.event),
        );
      }, `read the state before ${event.id}`),
    currentState: (decider, stream) =>
      store.transaction(async () => {
        const state = await confirmedState(decider, stream);
        if (!deps.sync) return state;
        const pending = await local.tables.pending(stream);
        return foldEvents(
          decider,
          state,
          pending.map((row) => row.event),
        );
      }, `read the state of ${stream}`),
    async append(stream, events) {
      if (!deps.sync) return deps.appendConfirmed(stream, events);
      await deps.appendPending(stream, events);
      return events.map(({ position: _position, recordedAt: _recordedAt, ...event }) => event);
    },
  };
}

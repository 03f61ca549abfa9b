// internal: not exported. The main thread's copy of projection states, so reads are synchronous.
// A record replaces the cached one only when it is newer (higher checkpoint, or with sync a
// higher revision: pending writes change the state without moving the checkpoint): results of
// `execute` and watch updates from the worker may arrive in either order. A new state keeps the
// previous state's objects where they are equal (share-unchanged.ts), so listeners (memoised
// components) can tell by identity which parts changed.
import type { ProjectionRecord } from "@chronicle/core";
import { shareUnchanged } from "./share-unchanged.ts";

type Listener = (state: unknown) => void;

interface Entry {
  record?: ProjectionRecord;
  listeners: Set<Listener>;
}

export class ProjectionCache {
  readonly #entries = new Map<string, Entry>();

  get(key: string): ProjectionRecord | undefined {
    return this.#entries.get(key)?.record;
  }

  /**
   * Stores the record if it is newer (or `replace`: a rebuild, whose checkpoint may equal the
   * cached one) and tells the key's listeners.
   */
  offer(record: ProjectionRecord & { revision?: number }, replace = false): void {
    const entry = this.#entry(record.key);
    const current = entry.record as (ProjectionRecord & { revision?: number }) | undefined;
    if (!replace && current !== undefined && current.version === record.version) {
      const older =
        current.revision !== undefined && record.revision !== undefined
          ? current.revision >= record.revision
          : current.checkpoint >= record.checkpoint;
      if (older) return;
    }
    // In place: the record's state takes the cached state's parts wherever they are equal. It
    // stays a new object itself, even when equal throughout: a newer record is news (apps pass
    // the state as their "the stream moved" signal, e.g. useHistory's `version`).
    if (current !== undefined) shareUnchanged(current.state, record.state);
    entry.record = record;
    for (const listener of [...entry.listeners]) listener(record.state);
  }

  /**
   * Gives `record`'s state the cached state's parts wherever they are equal, in place, before it
   * is offered (a later offer against the same cached state then walks only shared parts).
   */
  share(record: ProjectionRecord): void {
    const current = this.#entries.get(record.key)?.record;
    if (current !== undefined && current.version === record.version) {
      shareUnchanged(current.state, record.state);
    }
  }

  /** Adds a listener; returns how many the key has now. */
  listen(key: string, listener: Listener): number {
    const entry = this.#entry(key);
    entry.listeners.add(listener);
    return entry.listeners.size;
  }

  /** Removes a listener; returns how many the key has left. */
  unlisten(key: string, listener: Listener): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    entry.listeners.delete(listener);
    return entry.listeners.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { listeners: new Set() };
      this.#entries.set(key, entry);
    }
    return entry;
  }
}

// internal: not exported. Keeps watched projection records flowing to the main thread. A commit
// made here already carries the records it wrote (see the projection updater), so they are
// delivered without touching the database; a commit from another tab, or one that did not move
// a watched projection, makes the watcher catch up through the projection runner.
import {
  type ChronicleError,
  type Projection,
  type ProjectionRecord,
  toChronicleError,
} from "@chronicle/core";
import type { CommitNotice } from "../store/commit-channel.ts";

interface Watcher {
  key: string;
  stream: string;
  projection: Projection<any, any>;
  checkpoint: number;
  revision: number;
  /** The state last delivered: a record with that same state is news to nobody. */
  state?: unknown;
  closed: boolean;
  onRecord: (record: ProjectionRecord) => void;
  onError: ((error: ChronicleError) => void) | undefined;
}

/** How a watcher reads a projection's current record (the runner's catchUp, or optimistic). */
export type ReadRecord = (
  projection: Projection<any, any>,
  stream: string,
) => Promise<ProjectionRecord & { revision?: number }>;

export class ProjectionWatchers {
  readonly #read: ReadRecord;
  readonly #watchers = new Map<number, Watcher>();
  #nextId = 1;

  /**
   * With sync (`optimistic`), records are ordered by their `revision` and a notice's records
   * are used only when they carry one (confirmed-only records would hide pending events).
   */
  constructor(
    read: ReadRecord,
    readonly optimistic = false,
  ) {
    this.#read = read;
  }

  /** Delivers the current record, then every newer one; returns the watch id. */
  add(
    projection: Projection<any, any>,
    stream: string,
    onRecord: (record: ProjectionRecord) => void,
    onError?: (error: ChronicleError) => void,
  ): number {
    const id = this.#nextId++;
    const watcher: Watcher = {
      key: `${projection.name}/${stream}`,
      stream,
      projection,
      checkpoint: -1,
      revision: -1,
      closed: false,
      onRecord,
      onError,
    };
    this.#watchers.set(id, watcher);
    void this.#refresh(id, watcher);
    return id;
  }

  remove(id: number): void {
    const watcher = this.#watchers.get(id);
    if (watcher) watcher.closed = true;
    this.#watchers.delete(id);
  }

  clear(): void {
    for (const id of [...this.#watchers.keys()]) this.remove(id);
  }

  /** Call after every commit notice of the store. */
  onCommit(notice: CommitNotice): void {
    for (const [id, watcher] of this.#watchers) {
      if (!notice.streams.includes(watcher.stream)) continue;
      const record = notice.records?.find(
        (candidate) =>
          candidate.key === watcher.key &&
          candidate.version === watcher.projection.version &&
          (!this.optimistic || (candidate as { revision?: number }).revision !== undefined),
      );
      if (record) this.#deliver(watcher, record);
      else void this.#refresh(id, watcher);
    }
  }

  async #refresh(id: number, watcher: Watcher): Promise<void> {
    try {
      const record = await this.#read(watcher.projection, watcher.stream);
      this.#deliver(watcher, record);
    } catch (error) {
      if (watcher.closed) return;
      this.remove(id);
      watcher.onError?.(toChronicleError(error));
    }
  }

  // Records may arrive out of order (a catch-up that started before a commit finishes after
  // it): only a newer checkpoint (with sync: revision) is delivered.
  #deliver(watcher: Watcher, record: ProjectionRecord & { revision?: number }): void {
    if (watcher.closed) return;
    if (this.optimistic) {
      if ((record.revision ?? -1) <= watcher.revision) return;
      watcher.revision = record.revision ?? -1;
    } else if (record.checkpoint <= watcher.checkpoint) return;
    watcher.checkpoint = record.checkpoint;
    // A refresh that found nothing new (a notice that did not move this projection) reads the
    // kept state, the same object: not posted again.
    if (watcher.state === record.state && watcher.state !== undefined) return;
    watcher.state = record.state;
    watcher.onRecord(record);
  }
}

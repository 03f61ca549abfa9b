// internal: not exported. Keeps watched projection records flowing to the main thread. A commit
// made here already carries the records it wrote (see the projection updater), so they are
// delivered without touching the database; a commit from another tab, or one that did not move
// a watched projection, makes the watcher catch up through the projection runner.
import {
  type ChronicleError,
  type Projection,
  type ProjectionRecord,
  type ProjectionRunner,
  toChronicleError,
} from "@chronicle/core";
import type { CommitNotice } from "../store/commit-channel.ts";

interface Watcher {
  key: string;
  stream: string;
  projection: Projection<any, any>;
  checkpoint: number;
  closed: boolean;
  onRecord: (record: ProjectionRecord) => void;
  onError: ((error: ChronicleError) => void) | undefined;
}

export class ProjectionWatchers {
  readonly #runner: ProjectionRunner;
  readonly #watchers = new Map<number, Watcher>();
  #nextId = 1;

  constructor(runner: ProjectionRunner) {
    this.#runner = runner;
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
          candidate.key === watcher.key && candidate.version === watcher.projection.version,
      );
      if (record) this.#deliver(watcher, record);
      else void this.#refresh(id, watcher);
    }
  }

  async #refresh(id: number, watcher: Watcher): Promise<void> {
    try {
      const record = await this.#runner.catchUp(watcher.projection, watcher.stream);
      this.#deliver(watcher, record);
    } catch (error) {
      if (watcher.closed) return;
      this.remove(id);
      watcher.onError?.(toChronicleError(error));
    }
  }

  // Records may arrive out of order (a catch-up that started before a commit finishes after
  // it): only a newer checkpoint is delivered.
  #deliver(watcher: Watcher, record: ProjectionRecord): void {
    if (watcher.closed || record.checkpoint <= watcher.checkpoint) return;
    watcher.checkpoint = record.checkpoint;
    watcher.onRecord(record);
  }
}

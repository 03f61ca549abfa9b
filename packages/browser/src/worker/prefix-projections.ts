// internal: not exported. Cross-stream projections in the worker: a projection declared with a
// `prefix` has one record over every local stream whose id starts with it (key
// `${name}/${prefix}*`, checkpoint: the commit sequence of the last matching event folded).
// 1. Without sync, an append to a matching stream moves the record inside its own transaction
//    (the append hook), like stream projections (invariant 5): a command's answer carries it.
//    A record folds every event of the matching streams up to its checkpoint, so one whose
//    checkpoint is the log's tail is exact there: a known-state write (execute-local.ts) after
//    that tail folds its events into it without reading (their commit sequence follows the
//    tail), else it declines and the command takes the ordinary path. Records are remembered
//    as exact only once committed (from commit notices and reads).
// 2. With sync, reads show the confirmed record (moved in the transactions that store what the
//    node confirmed) then the pending events of every matching stream, in local order: a plain
//    fold of them on each read, ordered for the main thread by a revision.
// 3. A record of another version, or one that skipped events the projection knows now
//    (invariant 11), is rebuilt from the first matching event, and the rebuild is reported.
import {
  type ChronicleError,
  type ConfirmedEvent,
  FoldError,
  initialStateOf,
  type Projection,
  type ProjectionProgress,
  type ProjectionRecord,
  type ProjectionRunner,
  type RebuildReason,
  toChronicleError,
} from "@chronicle/core";
import {
  copySkipped,
  learnedSkips,
  noteSkipped,
  projectionKey,
  skippedField,
} from "@chronicle/core/store";
import type { HostStatus, RebuildProgress } from "../shared/host-api.ts";
import type { CommitNotice } from "../store/commit-channel.ts";
import type { DexieEventStore } from "../store/dexie-store.ts";
import type { LogTail } from "../store/log-queries.ts";
import type { ProjectionUpdater } from "../store/projection-updater.ts";
import type { PendingRow } from "../store/schema.ts";
import { allRequests } from "../store/storage-errors.ts";

/** A cross-stream projection's record as read: with sync, pending events folded in. */
export type PrefixRecord = ProjectionRecord & {
  /** With sync: this worker's order of records (pending events change them in place). */
  revision?: number;
  /** With sync: pending events folded after the checkpoint. */
  pending?: number;
};

export interface PrefixProjectionsOptions {
  store: DexieEventStore;
  /** The app's projections; only those with a `prefix` are kept here. */
  projections: readonly Projection<any, any>[];
  /** Catches records up outside appends (reads, other tabs' commits). */
  runner: ProjectionRunner;
  /** Sync configured: reads add the pending events of the matching streams. */
  optimistic: boolean;
  /** A record rebuilt inside an append's transaction. */
  onRebuild?: (progress: RebuildProgress) => void;
  /** A handler threw inside an append: the record stays where it was; the append commits. */
  onError?: (error: unknown, projection: Projection<any, any>) => void;
}

interface Watch {
  projection: Projection<any, any>;
  checkpoint: number;
  revision: number;
  closed: boolean;
  onRecord: (record: PrefixRecord) => void;
  onError: ((error: ChronicleError) => void) | undefined;
}

/** Whether a projection is a cross-stream one (declared with a `prefix`). */
export function isPrefixProjection(projection: Projection<any, any>): boolean {
  return projection.prefix !== undefined;
}

export class PrefixProjections {
  readonly #options: PrefixProjectionsOptions;
  readonly #byName = new Map<string, Projection<any, any>>();
  readonly #watches = new Map<number, Watch>();
  // The newest committed record of each projection (see 1.), for known-state writes.
  readonly #committed = new Map<Projection<any, any>, ProjectionRecord>();
  // Negative: the engine's stream watches count up from 1, and unwatch takes either.
  #nextId = -1;
  #revision = 0;

  constructor(options: PrefixProjectionsOptions) {
    this.#options = options;
    for (const projection of options.projections) {
      if (!isPrefixProjection(projection)) continue;
      this.#byName.set(projection.name, projection);
    }
  }

  /** The registered cross-stream projection of that name. */
  get(name: string): Projection<any, any> | undefined {
    return this.#byName.get(name);
  }

  /** Whether appending to `stream` moves a cross-stream projection. */
  concerns(stream: string): boolean {
    return this.#concerned(stream).length > 0;
  }

  /**
   * The records a known-state write of `events` after the log's `tail` moves (see 1.), folded
   * without reading; undefined when one of them is not known exact at that tail, or a handler
   * throws (the write is then declined and the command runs the ordinary way).
   */
  foldKnown(
    stream: string,
    events: readonly ConfirmedEvent[],
    tail: LogTail | undefined,
  ): ProjectionRecord[] | undefined {
    const concerned = this.#concerned(stream);
    if (concerned.length === 0) return [];
    if (tail === undefined) return undefined;
    const records: ProjectionRecord[] = [];
    for (const projection of concerned) {
      const record = this.#committed.get(projection);
      if (record === undefined || record.checkpoint !== tail.seq) return undefined;
      if (record.version !== projection.version) return undefined;
      let state = record.state;
      const skipped = copySkipped(record.skipped);
      try {
        for (const event of events) {
          state = projection.apply(state, event);
          noteSkipped(projection, event, skipped);
        }
      } catch {
        return undefined;
      }
      const { skipped: _before, ...rest } = record;
      records.push({
        ...rest,
        state,
        checkpoint: tail.seq + events.length,
        ...skippedField(skipped),
      });
    }
    return records;
  }

  /** The append hook's part (invariant 1): runs inside the append's transaction. */
  readonly update = async (stream: string): Promise<ProjectionRecord[]> => {
    const concerned = this.#concerned(stream);
    if (concerned.length === 0) return [];
    const records = await allRequests(concerned.map((projection) => this.#advance(projection)));
    return records.filter((record): record is ProjectionRecord => record !== undefined);
  };

  /**
   * The projection's record: caught up by the runner, then (with sync) the pending events of
   * every matching stream folded in (invariant 2).
   */
  async read(projection: Projection<any, any>): Promise<PrefixRecord> {
    const source = { prefix: projection.prefix! };
    if (!this.#options.optimistic) {
      const record = await this.#options.runner.catchUp(projection, source);
      this.#remember(projection, record);
      return record;
    }
    const revision = ++this.#revision;
    const { store } = this.#options;
    let record: ProjectionRecord;
    let pending: PendingRow[];
    // Read again when events were confirmed meanwhile (moved from pending to the log): the
    // record would miss them, or fold them twice (as optimistic.ts does per stream).
    for (let attempt = 0; ; attempt++) {
      const before = await store.lastCheckpoint();
      record = await this.#options.runner.catchUp(projection, source);
      pending = await store.db.pending
        .filter((row) => row.stream.startsWith(source.prefix))
        .toArray();
      if (attempt >= 5 || (await store.lastCheckpoint()) === before) break;
    }
    let state = record.state;
    if (pending.length > 0) {
      state = structuredClone(state);
      for (const row of pending) state = projection.apply(state, row.event);
    }
    return { ...record, state, revision, pending: pending.length };
  }

  /** Delivers the record now and after every change; returns the watch id. */
  watch(
    projection: Projection<any, any>,
    onRecord: (record: PrefixRecord) => void,
    onError?: (error: ChronicleError) => void,
  ): number {
    const id = this.#nextId--;
    const watch: Watch = {
      projection,
      checkpoint: -1,
      revision: -1,
      closed: false,
      onRecord,
      onError,
    };
    this.#watches.set(id, watch);
    void this.#refresh(id, watch);
    return id;
  }

  unwatch(id: number): void {
    const watch = this.#watches.get(id);
    if (watch) watch.closed = true;
    this.#watches.delete(id);
  }

  clear(): void {
    for (const id of [...this.#watches.keys()]) this.unwatch(id);
  }

  /** Call after every commit notice of the store. */
  onCommit(notice: CommitNotice): void {
    for (const projection of this.#byName.values()) {
      const key = projectionKey(projection, { prefix: projection.prefix! });
      const record = notice.records?.find((candidate) => candidate.key === key);
      if (record) this.#remember(projection, record);
    }
    for (const [id, watch] of this.#watches) {
      const prefix = watch.projection.prefix!;
      if (!notice.streams.some((stream) => stream.startsWith(prefix))) continue;
      const key = projectionKey(watch.projection, { prefix });
      const record = this.#options.optimistic
        ? undefined
        : notice.records?.find(
            (candidate) => candidate.key === key && candidate.version === watch.projection.version,
          );
      if (record) this.#deliver(watch, record);
      else void this.#refresh(id, watch);
    }
  }

  // Every append to a matching stream moves the record (whatever its event types), so that its
  // checkpoint stays at the log's tail while this worker writes there (see 1.).
  #concerned(stream: string): Projection<any, any>[] {
    const concerned: Projection<any, any>[] = [];
    for (const projection of this.#byName.values()) {
      if (stream.startsWith(projection.prefix!)) concerned.push(projection);
    }
    return concerned;
  }

  #remember(projection: Projection<any, any>, record: ProjectionRecord): void {
    if (record.version !== projection.version) return;
    const known = this.#committed.get(projection);
    if (known === undefined || known.checkpoint < record.checkpoint) {
      this.#committed.set(projection, record);
    }
  }

  // Inside the append's transaction: the appended rows are already visible to its reads.
  async #advance(projection: Projection<any, any>): Promise<ProjectionRecord | undefined> {
    const { store } = this.#options;
    const prefix = projection.prefix!;
    const key = projectionKey(projection, { prefix });
    const stored = (await store.db.projections.get(key)) as ProjectionRecord | undefined;
    const learned = stored ? learnedSkips(projection, stored.skipped) : [];
    const reason: Exclude<RebuildReason, "requested"> | undefined =
      stored === undefined
        ? undefined
        : stored.version !== projection.version
          ? "version"
          : learned.length > 0
            ? "learned"
            : undefined;
    const start: ProjectionRecord =
      stored && reason === undefined
        ? stored
        : {
            key,
            name: projection.name,
            version: projection.version,
            checkpoint: 0,
            state: initialStateOf(projection),
          };
    const entries = await store.readAll({ after: start.checkpoint, streamPrefix: prefix });
    let state = start.state;
    const skipped = copySkipped(start.skipped);
    let applied = 0;
    for (const entry of entries) {
      try {
        state = projection.apply(state, entry.event);
      } catch (error) {
        this.#options.onError?.(new FoldError(projection, entry.event, error, applied), projection);
        return undefined;
      }
      noteSkipped(projection, entry.event, skipped);
      applied++;
    }
    const { skipped: _before, ...rest } = start;
    const next: ProjectionRecord = {
      ...rest,
      state,
      checkpoint: entries.at(-1)?.checkpoint ?? start.checkpoint,
      ...skippedField(skipped),
    };
    await store.db.projections.put(next);
    if (reason !== undefined) {
      this.#options.onRebuild?.({
        projection: projection.name,
        prefix,
        reason,
        ...(reason === "learned" ? { learned } : {}),
        done: applied,
        total: applied,
      });
    }
    return next;
  }

  async #refresh(id: number, watch: Watch): Promise<void> {
    try {
      this.#deliver(watch, await this.read(watch.projection));
    } catch (error) {
      if (watch.closed) return;
      this.unwatch(id);
      watch.onError?.(toChronicleError(error));
    }
  }

  // Records may arrive out of order: only a newer checkpoint (with sync: revision) goes out.
  #deliver(watch: Watch, record: PrefixRecord): void {
    if (watch.closed) return;
    if (this.#options.optimistic) {
      if ((record.revision ?? -1) <= watch.revision) return;
      watch.revision = record.revision ?? -1;
    } else if (record.checkpoint <= watch.checkpoint) return;
    watch.checkpoint = record.checkpoint;
    watch.onRecord(record);
  }
}

/**
 * The engine's projection updater with the cross-stream projections added: appends move both
 * kinds in their transaction, and known-state writes fold both without reading (see 1.).
 */
export function withPrefixProjections(
  updater: ProjectionUpdater,
  prefix: PrefixProjections,
): ProjectionUpdater {
  return {
    update: async (stream, events, prefetched) => {
      const [own, crossStream] = await allRequests([
        updater.update(stream, events, prefetched),
        prefix.update(stream),
      ]);
      return crossStream.length === 0 ? own : [...own, ...crossStream];
    },
    prefetch: (stream, types) => updater.prefetch(stream, types),
    foldKnown: (stream, events, known, tail) => {
      const crossStream = prefix.foldKnown(stream, events, tail);
      if (crossStream === undefined) return undefined;
      const own = updater.foldKnown(stream, events, known, tail);
      if (own === undefined) return undefined;
      return crossStream.length === 0 ? own : [...own, ...crossStream];
    },
  };
}

/**
 * The `rebuild` status for a runner's progress report, or undefined for an ordinary catch-up
 * (those are not shown to the app).
 */
export function rebuildStatus(progress: ProjectionProgress): HostStatus | undefined {
  if (!progress.rebuilding || progress.reason === undefined) return undefined;
  const { source } = progress;
  return {
    type: "rebuild",
    progress: {
      projection: progress.projection,
      ...(typeof source === "string" ? { stream: source } : { prefix: source.prefix }),
      done: progress.done,
      total: progress.total,
      reason: progress.reason,
      ...(progress.learned ? { learned: progress.learned } : {}),
    },
  };
}

import type { ConfirmedEvent } from "../events/envelope.ts";
import { FoldError, initialStateOf } from "../fold/foldable.ts";
import { loadUsableSnapshot } from "../fold/load-state.ts";
import {
  copySkipped,
  learnedSkips,
  noteSkipped,
  type SkippedEvents,
  skippedField,
} from "../fold/skipped-events.ts";
import { type SnapshotStore, snapshotKey } from "../snapshot/snapshot-store.ts";
import type { EventStore, LoggedEvent, Subscription } from "../store/types.ts";
import type { Projection } from "./define-projection.ts";
import {
  MemoryProjectionStateStore,
  type ProjectionRecord,
  type ProjectionStateStore,
} from "./projection-state-store.ts";

/** What a projection folds: one stream by id, or every stream whose id starts with `prefix`. */
export type ProjectionSource =
  | string
  | {
      /** Folds every stream whose id starts with it, in global (checkpoint) order. */
      prefix: string;
    };

/**
 * Why a projection's persisted state was discarded and is being rebuilt: its `version` changed,
 * the code has learned event types or versions the state skipped (invariant 11), or the app
 * asked (`rebuild`).
 */
export type RebuildReason = "version" | "learned" | "requested";

/** How far a catch-up or rebuild has come (see `onProgress`). */
export interface ProjectionProgress {
  /** The projection's name. */
  projection: string;
  /** The record key: `${name}/${stream}` or `${name}/${prefix}*`. */
  key: string;
  /** What is folded: the stream, or `{ prefix }`. */
  source: ProjectionSource;
  /** Events folded so far in this run. */
  done: number;
  /** Events to fold in this run. */
  total: number;
  /** True when the persisted state was discarded and is being rebuilt (see `reason`). */
  rebuilding: boolean;
  /** Why it is rebuilt; absent for an ordinary catch-up. */
  reason?: RebuildReason;
  /** With reason `learned`: the `type@version`s the old state skipped and this code knows. */
  learned?: string[];
}

/** What {@link createProjectionRunner} takes. */
export interface ProjectionRunnerOptions {
  /** The event store the projections read. */
  store: EventStore;
  /** Where states and checkpoints persist. @default a MemoryProjectionStateStore */
  states?: ProjectionStateStore;
  /** Saves snapshots per the projection's `snapshotEvery` (stream sources only). */
  snapshots?: SnapshotStore;
  /** Events per read. @default 1000 */
  pageSize?: number;
  /** Reports catch-up and rebuild progress, once per page. */
  onProgress?: (progress: ProjectionProgress) => void;
  /** Clock for the snapshots it saves. @default Date.now */
  now?: () => number;
}

/**
 * Keeps projections current incrementally: each has a persisted state and checkpoint, and a run
 * folds only the events after the checkpoint. A projection whose `version` differs from its
 * persisted state, or which now knows event types or versions the state skipped (written by a
 * newer app, learned since), is rebuilt from a usable snapshot or the first event, reporting
 * progress. When a handler throws,
 * the run persists the state up to the event before, then throws a `FoldError` (`internal`)
 * naming the event; later runs stop at the same place until the projection is fixed.
 *
 * @example
 * const runner = createProjectionRunner({ store, onProgress: (p) => console.log(`${p.done}/${p.total}`) });
 * const board = await runner.read(boardProjection, "board:1");
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  return new ProjectionRunner(options);
}

/**
 * Keeps projections current over an event store: one persisted state and checkpoint per
 * projection and source. Create one with {@link createProjectionRunner}.
 */
export class ProjectionRunner {
  readonly #store: EventStore;
  readonly #states: ProjectionStateStore;
  readonly #snapshots: SnapshotStore | undefined;
  readonly #pageSize: number;
  readonly #onProgress: ((progress: ProjectionProgress) => void) | undefined;
  readonly #now: () => number;
  readonly #running = new Map<string, Promise<unknown>>();

  constructor(options: ProjectionRunnerOptions) {
    this.#store = options.store;
    this.#states = options.states ?? new MemoryProjectionStateStore();
    this.#snapshots = options.snapshots;
    this.#pageSize = options.pageSize ?? 1000;
    this.#onProgress = options.onProgress;
    this.#now = options.now ?? Date.now;
  }

  /** The projection's state with every stored event folded in. */
  async read<State>(projection: Projection<State, any>, source: ProjectionSource): Promise<State> {
    return (await this.catchUp(projection, source)).state;
  }

  /** Folds the events after the persisted checkpoint and persists the result. */
  catchUp<State>(
    projection: Projection<State, any>,
    source: ProjectionSource,
  ): Promise<ProjectionRecord<State>> {
    return this.#queue(projection, source, false);
  }

  /**
   * Discards the persisted state and folds the source again from its first event (snapshots are
   * not used either), reporting progress with `reason: "requested"`. For a state the app no
   * longer trusts; upgrades do not need it (they rebuild by themselves).
   *
   * @example
   * await runner.rebuild(boardProjection, "board:1");
   */
  rebuild<State>(
    projection: Projection<State, any>,
    source: ProjectionSource,
  ): Promise<ProjectionRecord<State>> {
    return this.#queue(projection, source, true);
  }

  #queue<State>(
    projection: Projection<State, any>,
    source: ProjectionSource,
    requested: boolean,
  ): Promise<ProjectionRecord<State>> {
    const key = projectionKey(projection, source);
    // One run per key at a time: a second caller waits for the first, then folds what is left.
    const previous = this.#running.get(key) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => this.#run(projection, source, key, requested));
    this.#running.set(key, run);
    void run
      .finally(() => {
        if (this.#running.get(key) === run) this.#running.delete(key);
      })
      .catch(() => {});
    return run;
  }

  /**
   * Calls `listener` with the current state, then after every commit that changes it.
   * Errors (including a handler failing) go to `onError` and stop the watch.
   */
  watch<State>(
    projection: Projection<State, any>,
    source: ProjectionSource,
    listener: (state: State, checkpoint: number) => void,
    onError?: (error: unknown) => void,
  ): Subscription {
    let lastCheckpoint = -1;
    let closed = false;
    let subscription: Subscription | undefined;
    const refresh = async () => {
      const record = await this.catchUp(projection, source);
      if (!closed && record.checkpoint !== lastCheckpoint) {
        lastCheckpoint = record.checkpoint;
        listener(record.state, record.checkpoint);
      }
    };
    const fail = (error: unknown) => {
      closed = true;
      subscription?.close();
      onError?.(error);
    };
    // Delivered events only signal "something committed": catchUp reads from the persisted
    // checkpoint itself, so a burst of events costs one fold, and nothing is folded twice.
    const started = refresh().then(() => {
      if (closed) return;
      subscription = this.#store.subscribe(
        {
          ...(typeof source === "string" ? { stream: source } : { streamPrefix: source.prefix }),
          after: Math.max(0, lastCheckpoint),
          onError: fail,
        },
        (entry) => (entry.checkpoint > lastCheckpoint ? refresh() : undefined),
      );
      return subscription.caughtUp;
    });
    started.catch(fail);
    return {
      caughtUp: started.catch(() => {}),
      close: () => {
        closed = true;
        subscription?.close();
      },
    };
  }

  async #run<State>(
    projection: Projection<State, any>,
    source: ProjectionSource,
    key: string,
    requested: boolean,
  ): Promise<ProjectionRecord<State>> {
    const stored = (await this.#states.get(key)) as ProjectionRecord<State> | undefined;
    const learned = stored ? learnedSkips(projection, stored.skipped) : [];
    const reason: RebuildReason | undefined = requested
      ? "requested"
      : stored === undefined
        ? undefined
        : stored.version !== projection.version
          ? "version"
          : learned.length > 0
            ? "learned"
            : undefined;
    const rebuilding = reason !== undefined;
    let record =
      stored && !rebuilding ? stored : await this.#startRecord(projection, source, key, requested);
    const target =
      typeof source === "string"
        ? await this.#store.head(source)
        : await this.#store.lastCheckpoint();
    const total = Math.max(0, target - record.checkpoint);
    const progress = (done: number) =>
      this.#onProgress?.({
        projection: projection.name,
        key,
        source,
        done,
        total,
        rebuilding,
        ...(reason === undefined ? {} : { reason }),
        ...(reason === "learned" ? { learned } : {}),
      });
    if (total === 0) {
      if (stored !== record) await this.#states.put(record);
      // A rebuild is always reported, so whoever shows "rebuilding" sees it end.
      if (rebuilding) progress(0);
      return record;
    }

    let state = record.state;
    let checkpoint = record.checkpoint;
    let lastSnapshot = checkpoint;
    let done = 0;
    // Copied: the stored record's set must not change if this run fails half-way.
    const skipped = copySkipped(record.skipped);
    try {
      for (;;) {
        const page = await this.#readPage(source, checkpoint);
        if (page.length === 0) break;
        for (const entry of page) {
          state = projection.apply(state, entry.event);
          noteSkipped(projection, entry.event, skipped);
          checkpoint = entry.checkpoint;
          done++;
          if (typeof source === "string" && projection.snapshotEvery && this.#snapshots) {
            if (checkpoint - lastSnapshot >= projection.snapshotEvery) {
              await this.#snapshots.save({
                key: snapshotKey("projection", projection.name, source),
                position: checkpoint,
                version: projection.version,
                state,
                takenAt: this.#now(),
                ...skippedField(copySkipped(skipped)),
              });
              lastSnapshot = checkpoint;
            }
          }
        }
        progress(done);
        if (page.length < this.#pageSize) break;
      }
    } catch (error) {
      record = withFold(record, state, checkpoint, skipped);
      await this.#states.put(record);
      const failed = await this.#readPage(source, checkpoint, 1);
      const event = failed[0]?.event;
      throw event ? new FoldError(projection, event, error, done) : error;
    }
    record = withFold(record, state, checkpoint, skipped);
    await this.#states.put(record);
    return record;
  }

  async #startRecord<State>(
    projection: Projection<State, any>,
    source: ProjectionSource,
    key: string,
    fromScratch: boolean,
  ): Promise<ProjectionRecord<State>> {
    const base = { key, name: projection.name, version: projection.version };
    if (typeof source === "string" && !fromScratch) {
      const snapshot = await loadUsableSnapshot(this.#snapshots, projection, source);
      if (snapshot) {
        return {
          ...base,
          checkpoint: snapshot.position,
          state: snapshot.state,
          ...skippedField(snapshot.skipped),
        };
      }
    }
    return { ...base, checkpoint: 0, state: initialStateOf(projection) };
  }

  async #readPage(
    source: ProjectionSource,
    after: number,
    limit = this.#pageSize,
  ): Promise<LoggedEvent[]> {
    if (typeof source !== "string") {
      return this.#store.readAll({ after, limit, streamPrefix: source.prefix });
    }
    const events = await this.#store.readStream(source, { from: after + 1, limit });
    return events.map((event: ConfirmedEvent) => ({ checkpoint: event.position, event }));
  }
}

// The record after a fold: its skipped set replaced (dropped when empty).
function withFold<State>(
  record: ProjectionRecord<State>,
  state: State,
  checkpoint: number,
  skipped: SkippedEvents,
): ProjectionRecord<State> {
  const { skipped: _previous, ...rest } = record;
  return { ...rest, state, checkpoint, ...skippedField(skipped) };
}

/**
 * The key of a projection's persisted record for a source: `${name}/${stream}` or
 * `${name}/${prefix}*`.
 *
 * @example
 * projectionKey(boardProjection, "board:1"); // "board/board:1"
 */
export function projectionKey(
  projection: Pick<Projection<any, any>, "name">,
  source: ProjectionSource,
): string {
  return typeof source === "string"
    ? `${projection.name}/${source}`
    : `${projection.name}/${source.prefix}*`;
}

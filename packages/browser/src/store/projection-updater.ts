// internal: not exported. Moves the persisted projections of a stream inside the transaction
// that appends to it, so a projection's checkpoint never names an event that is not stored and
// never lags behind a committed command (docs/architecture.md, invariant 5).
import {
  type AnyEventDefinition,
  type ConfirmedEvent,
  foldEvents,
  initialStateOf,
  type Projection,
  type ProjectionRecord,
  type RebuildReason,
  type SkippedEvents,
} from "@chronicle/core";
import { learnedSkips, loadUsableSnapshot, skippedField, withSkipped } from "@chronicle/core/store";
import type { DexieEventStore } from "./dexie-store.ts";
import type { LogTail } from "./log-queries.ts";
import { currentWriteTransaction, getMany, writeMany } from "./raw-requests.ts";
import type { DexieSnapshotStore } from "./state-stores.ts";
import { allRequests } from "./storage-errors.ts";
import type { AppendHook } from "./store-types.ts";

export interface ProjectionUpdaterOptions {
  store: DexieEventStore;
  projections: readonly Projection<any, any>[];
  snapshots: DexieSnapshotStore;
  /**
   * A projection whose handler throws is left at its previous checkpoint (the append still
   * commits: one broken read model must not stop writes); the error is reported here, and the
   * projection runner stops at the same event when the projection is next read.
   */
  onError?: (error: unknown, projection: Projection<any, any>) => void;
  /**
   * Every event definition of the app (the registry): events written by this worker are of
   * these types. Lets a record folded past events it did not read remember which of them the
   * projection skips (invariant 11). @default the projections' own definitions
   */
  events?: readonly AnyEventDefinition[];
  /**
   * A record was rebuilt in an append's transaction (its version changed, or the projection now
   * knows events it skipped): `done` of `total` events folded.
   */
  onRebuild?: (rebuild: UpdaterRebuild) => void;
}

/** A rebuild done by the updater inside an append's transaction (reported once, when done). */
export interface UpdaterRebuild {
  /** The projection's name. */
  projection: string;
  /** The stream. */
  stream: string;
  /** Why the stored record was not used. */
  reason: Exclude<RebuildReason, "requested">;
  /** The skipped `type@version`s the projection knows now (reason `learned`). */
  learned?: string[];
  /** Events folded. */
  done: number;
  /** Events to fold (all of them were). */
  total: number;
}

/** The persisted record key of a projection over one stream (core's ProjectionRunner format). */
export function projectionKey(projection: Projection<any, any>, stream: string): string {
  return `${projection.name}/${stream}`;
}

/**
 * Returns an append hook (`update`) that folds the appended events into every projection that handles one
 * of their types, catching up from the persisted checkpoint (or the newest snapshot, or the
 * first event, for a projection new to the stream or of a new version).
 */
export interface ProjectionUpdater {
  /** The append hook: folds the appended events into the projections they concern. */
  update: AppendHook;
  /**
   * The records `update` would write for `events`, folded without touching the database from
   * `known`: records whose state has folded every event of the stream before the first of
   * `events` (a record's checkpoint may be older when the events since are of types it does not
   * handle). Undefined when a concerned projection's record is not known (or is of another
   * version, or claims events not before them), or a handler throws: the caller then appends
   * the ordinary way, which reports it. `tail` is the log's tail the events are written after
   * (their commit sequence follows it): cross-stream projections need it, and decline without.
   */
  foldKnown(
    stream: string,
    events: readonly ConfirmedEvent[],
    known: ReadonlyMap<string, ProjectionRecord>,
    tail?: LogTail,
  ): ProjectionRecord[] | undefined;
  /** Reads the records an append of these event types would move (see `update`'s prefetched). */
  prefetch(
    stream: string,
    types: ReadonlySet<string>,
  ): Promise<Map<string, ProjectionRecord | undefined>>;
}

export function createProjectionUpdater(options: ProjectionUpdaterOptions): ProjectionUpdater {
  const registry = [
    ...new Map(
      [...(options.events ?? []), ...options.projections.flatMap((p) => [...p.events])].map(
        (definition: AnyEventDefinition) => [definition.type, definition] as const,
      ),
    ).values(),
  ];
  // What a projection skips of the events this worker writes: recorded when a record is folded
  // past a gap it does not read (foldKnown), conservatively (the gap may hold none of them).
  const unknownWritten = new Map(
    options.projections.map((projection) => [
      projection,
      registry
        .filter((definition) => !(projection.knows?.(definition.type, definition.version) ?? true))
        .map((definition) => ({ type: definition.type, version: definition.version })),
    ]),
  );
  const handledTypes = new Map(
    options.projections.map((projection) => [
      projection,
      new Set(Object.keys(projection.handlers as object)),
    ]),
  );
  const update = async (
    stream: string,
    events: readonly ConfirmedEvent[],
    prefetched?: ReadonlyMap<string, ProjectionRecord | undefined>,
  ): Promise<ProjectionRecord[]> => {
    const first = events[0];
    if (first === undefined) return [];
    const concerned = concernedBy(events);
    // Each projection's reads and write are independent: issue them together.
    const updated = await allRequests(
      concerned.map((projection) =>
        advance(projection, stream, events, first.position, prefetched),
      ),
    );
    return updated.filter((record): record is ProjectionRecord => record !== undefined);
  };

  /**
   * Reads, in the current transaction, the records an append of events of these types would
   * move, so a caller can issue those reads together with its own.
   */
  const prefetch = async (
    stream: string,
    types: ReadonlySet<string>,
  ): Promise<Map<string, ProjectionRecord | undefined>> => {
    const keys = options.projections
      .filter((projection) => [...handledTypes.get(projection)!].some((type) => types.has(type)))
      .map((projection) => projectionKey(projection, stream));
    const transaction = currentWriteTransaction(options.store.db, ["projections"]);
    const records = transaction
      ? await getMany<ProjectionRecord>(transaction, "projections", keys)
      : await options.store.db.projections.bulkGet(keys);
    return new Map(keys.map((key, index) => [key, records[index]]));
  };

  const foldKnown = (
    stream: string,
    events: readonly ConfirmedEvent[],
    known: ReadonlyMap<string, ProjectionRecord>,
  ): ProjectionRecord[] | undefined => {
    const first = events[0];
    const last = events.at(-1);
    if (first === undefined || last === undefined) return [];
    const records: ProjectionRecord[] = [];
    for (const projection of concernedBy(events)) {
      const record = known.get(projectionKey(projection, stream));
      if (record?.version !== projection.version || record.checkpoint >= first.position) {
        return undefined;
      }
      if (learnedSkips(projection, record.skipped).length > 0) return undefined;
      try {
        const state = foldEvents(projection, record.state, events);
        // The events between the record and these ones were written here, of types the
        // projection does not handle: remember them as skipped without reading them.
        const gap = record.checkpoint < first.position - 1 ? unknownWritten.get(projection)! : [];
        const skipped = withSkipped(projection, record.skipped, [...gap, ...events]);
        records.push({ ...record, state, checkpoint: last.position, ...skippedField(skipped) });
      } catch {
        return undefined;
      }
    }
    return records;
  };

  return { update, prefetch, foldKnown };

  function concernedBy(events: readonly ConfirmedEvent[]): Projection<any, any>[] {
    return options.projections.filter((projection) => {
      const types = handledTypes.get(projection)!;
      return events.some((event) => types.has(event.type));
    });
  }

  async function advance(
    projection: Projection<any, any>,
    stream: string,
    events: readonly ConfirmedEvent[],
    firstPosition: number,
    prefetched: ReadonlyMap<string, ProjectionRecord | undefined> | undefined,
  ): Promise<ProjectionRecord | undefined> {
    const key = projectionKey(projection, stream);
    let record = prefetched?.has(key)
      ? prefetched.get(key)
      : ((await options.store.db.projections.get(key)) as ProjectionRecord | undefined);
    const learned = record === undefined ? [] : learnedSkips(projection, record.skipped);
    const reason =
      record === undefined
        ? undefined
        : record.version !== projection.version
          ? ("version" as const)
          : learned.length > 0
            ? ("learned" as const)
            : undefined;
    if (record === undefined || reason !== undefined) {
      // Not the stored record: a usable snapshot (invariant 11) or the first event.
      const snapshot = await loadUsableSnapshot(
        options.snapshots,
        projection,
        stream,
        firstPosition - 1,
      );
      record = {
        key,
        name: projection.name,
        version: projection.version,
        checkpoint: snapshot?.position ?? 0,
        state: snapshot ? snapshot.state : initialStateOf(projection),
        ...skippedField(snapshot?.skipped),
      };
    }
    const checkpoint = record.checkpoint;
    const gap =
      checkpoint < firstPosition - 1
        ? await options.store.readStream(stream, {
            from: checkpoint + 1,
            toPosition: firstPosition - 1,
          })
        : [];
    const fresh = events.filter((event) => event.position > checkpoint);
    let state: unknown;
    try {
      state = foldEvents(projection, record.state, [...gap, ...fresh]);
    } catch (error) {
      options.onError?.(error, projection);
      return undefined;
    }
    const last = fresh[fresh.length - 1] ?? gap[gap.length - 1];
    const skipped: SkippedEvents | undefined = withSkipped(projection, record.skipped, [
      ...gap,
      ...fresh,
    ]);
    const { skipped: _before, ...rest } = record;
    const next = {
      ...rest,
      state,
      checkpoint: last?.position ?? checkpoint,
      ...skippedField(skipped),
    };
    if (reason !== undefined) {
      const folded = gap.length + fresh.length;
      options.onRebuild?.({
        projection: projection.name,
        stream,
        reason,
        ...(reason === "learned" ? { learned } : {}),
        done: folded,
        total: folded,
      });
    }
    // The hook always runs inside the append's transaction; raw when it can (raw-requests.ts).
    const transaction = currentWriteTransaction(options.store.db, ["projections"]);
    if (transaction) await writeMany(transaction, "projections", [next]);
    else await options.store.db.projections.put(next);
    return next;
  }
}

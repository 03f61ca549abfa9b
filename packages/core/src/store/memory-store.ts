import { ChronicleError } from "../errors.ts";
import type { ConfirmedEvent } from "../events/envelope.ts";
import { planAppend, validateBatch } from "./append-plan.ts";
import { createPullSubscription } from "./subscription.ts";
import type {
  AppendedEvent,
  AppendOptions,
  AppendResult,
  EventHandler,
  EventStore,
  LoggedEvent,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

/** What `new MemoryEventStore(options)` takes. */
export interface MemoryEventStoreOptions {
  /** Clock for `recordedAt`; kept non-decreasing by the store. @default Date.now */
  now?: () => number;
  /** Events per page delivered to subscriptions. @default 500 */
  pageSize?: number;
}

interface StreamState {
  events: ConfirmedEvent[];
  byId: Map<string, AppendedEvent>;
}

/**
 * The reference EventStore, in memory. It orders events itself (positions and `recordedAt`), so
 * it is an authority like the sync node: use it in tests, in Node, or as an offline-only log.
 * Stored events are frozen: handlers that try to mutate them fail loudly instead of corrupting
 * the log.
 *
 * @example
 * const store = new MemoryEventStore();
 * await store.append("board:1", [event], { expectedVersion: "no-stream" });
 */
export class MemoryEventStore implements EventStore {
  readonly #streams = new Map<string, StreamState>();
  readonly #all: LoggedEvent[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #now: () => number;
  readonly #pageSize: number;
  #lastRecordedAt = 0;
  #closed = false;

  constructor(options: MemoryEventStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#pageSize = options.pageSize ?? 500;
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.#assertOpen();
    validateBatch(stream, events);
    const state = this.#streams.get(stream);
    const head = state?.events.length ?? 0;
    const plan = planAppend(stream, events, options.expectedVersion ?? "any", head, (id) =>
      state?.byId.get(id),
    );
    if (plan.kind === "duplicate") return { results: plan.results, head };
    if (events.length === 0) return { results: [], head };

    // Clone before committing anything, so a value that cannot be cloned fails the whole batch.
    const recordedAt = Math.max(this.#now(), this.#lastRecordedAt);
    const confirmed = events.map(
      (event, index) =>
        deepFreeze({
          ...structuredClone(event),
          stream,
          position: head + index + 1,
          recordedAt,
        }) as ConfirmedEvent,
    );
    const target: StreamState = state ?? { events: [], byId: new Map() };
    this.#streams.set(stream, target);
    this.#lastRecordedAt = recordedAt;
    const results: AppendedEvent[] = [];
    for (const event of confirmed) {
      target.events.push(event);
      const result = { id: event.id, position: event.position, recordedAt };
      target.byId.set(event.id, result);
      results.push(result);
      this.#all.push({ checkpoint: this.#all.length + 1, event });
    }
    for (const listener of this.#listeners) listener();
    return { results, head: target.events.length };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<ConfirmedEvent[]> {
    this.#assertOpen();
    const events = this.#streams.get(stream)?.events ?? [];
    return sliceStream(events, options);
  }

  async head(stream: string): Promise<number> {
    this.#assertOpen();
    return this.#streams.get(stream)?.events.length ?? 0;
  }

  async readAll(options: ReadAllOptions = {}): Promise<LoggedEvent[]> {
    this.#assertOpen();
    const after = Math.max(0, options.after ?? 0);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const prefix = options.streamPrefix;
    const out: LoggedEvent[] = [];
    for (let i = after; i < this.#all.length && out.length < limit; i++) {
      const entry = this.#all[i]!;
      if (prefix === undefined || entry.event.stream.startsWith(prefix)) out.push(entry);
    }
    return out;
  }

  async lastCheckpoint(): Promise<number> {
    this.#assertOpen();
    return this.#all.length;
  }

  subscribe(options: SubscribeOptions, handler: EventHandler): Subscription {
    this.#assertOpen();
    const { stream, streamPrefix } = options;
    const read =
      stream === undefined
        ? (after: number) =>
            this.readAll({ after, limit: this.#pageSize, ...prefixOf(streamPrefix) })
        : async (after: number) =>
            (await this.readStream(stream, { from: after + 1, limit: this.#pageSize })).map(
              (event) => ({ checkpoint: event.position, event }),
            );
    return createPullSubscription({
      read,
      listen: (onCommit) => {
        this.#listeners.add(onCommit);
        return () => this.#listeners.delete(onCommit);
      },
      after: options.after ?? 0,
      handler,
      onError: options.onError,
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ChronicleError("internal", "the event store is closed");
  }
}

function prefixOf(streamPrefix: string | undefined): { streamPrefix?: string } {
  return streamPrefix === undefined ? {} : { streamPrefix };
}

/**
 * Applies ReadStreamOptions to a stream's events held in position order (index = position - 1).
 * Exported for stores that keep a stream in memory.
 *
 * @example
 * readStream(stream, options) { return sliceStream(this.events(stream), options); }
 */
export function sliceStream(
  events: readonly ConfirmedEvent[],
  options: ReadStreamOptions,
): ConfirmedEvent[] {
  let last = events.length;
  if (options.toPosition !== undefined) last = Math.min(last, Math.max(0, options.toPosition));
  if (options.untilTime !== undefined) {
    last = Math.min(last, countRecordedBy(events, options.untilTime));
  }
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) return [];
  if (options.direction === "backward") {
    const start = Math.min(last, options.from ?? last);
    const end = Math.max(0, start - limit);
    return events.slice(end, start).reverse();
  }
  const start = Math.max(1, options.from ?? 1);
  return events.slice(start - 1, Math.min(last, start - 1 + limit));
}

// recordedAt never decreases along a stream, so the cut is a binary search.
function countRecordedBy(events: readonly ConfirmedEvent[], time: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (events[mid]!.recordedAt <= time) low = mid + 1;
    else high = mid;
  }
  return low;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

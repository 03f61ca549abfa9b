import type { ConfirmedEvent, RecordedEvent } from "../events/envelope.ts";

/**
 * What the writer expects the stream's head to be:
 * - `"any"`: no check;
 * - `"no-stream"`: the stream is empty (head 0);
 * - `"exists"`: the stream has at least one event;
 * - a number: the head position equals it exactly.
 */
export type ExpectedVersion = "any" | "no-stream" | "exists" | number;

/** An event to append: a full envelope without the fields the store assigns. */
export type NewEvent<Data = unknown> = Omit<RecordedEvent<Data>, "position" | "recordedAt">;

/** How {@link EventStore.append} checks the stream. */
export interface AppendOptions {
  /**
   * What the stream's head must be for the append to go ahead (`concurrency` otherwise).
   * @default "any"
   */
  expectedVersion?: ExpectedVersion;
}

/** Where one appended event landed (the same shape as a sync `ack` result). */
export interface AppendedEvent {
  /** The event's id. */
  id: string;
  /** Its position in the stream. */
  position: number;
  /** The store's clock when it was ordered (ms). */
  recordedAt: number;
}

/** What {@link EventStore.append} did. */
export interface AppendResult {
  /** One per appended event, in the order given. */
  results: AppendedEvent[];
  /** The stream's head position after the append. */
  head: number;
}

/** Which events {@link EventStore.readStream} returns, and in which order. */
export interface ReadStreamOptions {
  /** Position order, or its reverse. @default "forward" */
  direction?: "forward" | "backward";
  /** Position to start at, inclusive. @default 1 forward, the head backward */
  from?: number;
  /** Read the stream as it was at this position: nothing after it, in either direction. */
  toPosition?: number;
  /** Read the stream as it was at this time: nothing with `recordedAt` after it. */
  untilTime?: number;
  /** At most this many events. @default unlimited */
  limit?: number;
}

/** An event in the store's global commit order. */
export interface LoggedEvent {
  /**
   * Global commit sequence for `readAll` and all-stream subscriptions, starting at 1; the
   * stream position for stream subscriptions.
   */
  checkpoint: number;
  /** The stored event. */
  event: ConfirmedEvent;
}

/** Which events {@link EventStore.readAll} returns. */
export interface ReadAllOptions {
  /** Only events committed after this checkpoint. @default 0 */
  after?: number;
  /** At most this many events. @default unlimited */
  limit?: number;
  /** Only streams whose id starts with this prefix. */
  streamPrefix?: string;
}

/** What {@link EventStore.subscribe} delivers, from where. */
export interface SubscribeOptions {
  /** Subscribe to one stream (checkpoints are positions); omit for every stream. */
  stream?: string;
  /** Deliver events after this checkpoint (catch-up), then live ones. @default 0 */
  after?: number;
  /** With `stream` omitted: only streams with this prefix. */
  streamPrefix?: string;
  /** Called when the handler or a read fails; the subscription then stops. */
  onError?: (error: unknown) => void;
}

/** A running subscription to an event store. */
export interface Subscription {
  /** Resolves once every event committed before `subscribe` returned has been delivered. */
  readonly caughtUp: Promise<void>;
  /** Stops delivery; an event being handled finishes first. */
  close(): void;
}

/** Receives each event a subscription delivers; a returned promise is awaited before the next. */
export type EventHandler = (entry: LoggedEvent) => void | Promise<void>;

/**
 * An append-only event log. Every implementation passes the store contract suite
 * (`runEventStoreContract` from `@chronicle/core/testing/store-contract`).
 */
export interface EventStore {
  /**
   * Appends events to a stream atomically, checking `expectedVersion` (`concurrency` on
   * mismatch). Idempotent by event id: re-appending a batch already stored where expected
   * returns the original result and writes nothing; a batch that only partly matches stored
   * events fails with `concurrency` and writes nothing.
   */
  append(
    stream: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Reads one stream's events in position order (or backwards). */
  readStream(stream: string, options?: ReadStreamOptions): Promise<ConfirmedEvent[]>;
  /** The stream's head position (0 for a stream with no events). */
  head(stream: string): Promise<number>;
  /** Reads every stream's events in global commit order. */
  readAll(options?: ReadAllOptions): Promise<LoggedEvent[]>;
  /** The last global checkpoint (0 when the store is empty). */
  lastCheckpoint(): Promise<number>;
  /**
   * Delivers stored events after `after`, then live ones, in order, each once, awaiting the
   * handler between events.
   */
  subscribe(options: SubscribeOptions, handler: EventHandler): Subscription;
  /** Releases the store's resources (connections, subscriptions); it is not used afterwards. */
  close(): Promise<void>;
}

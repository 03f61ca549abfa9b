import type { EventHandler, LoggedEvent, Subscription } from "./types.ts";

/** What {@link createPullSubscription} needs from a store. */
export interface PullSubscriptionOptions {
  /** Reads the next page of entries after a checkpoint (an empty page means caught up). */
  read: (after: number) => Promise<LoggedEvent[]>;
  /** Registers a callback run after every commit; returns the unregister function. */
  listen: (onCommit: () => void) => () => void;
  /** Deliver entries after this checkpoint. */
  after: number;
  /** Receives each entry, awaited before the next. */
  handler: EventHandler;
  /** Called when the handler or a read fails; the subscription then stops. */
  onError?: ((error: unknown) => void) | undefined;
}

/**
 * A catch-up subscription that becomes live without gaps or duplicates: it always reads from
 * its own cursor, and a commit notification only means "read again". Whether an event arrives
 * during catch-up or after, it is delivered by the same read loop, once, in checkpoint order.
 * Stores implement `subscribe` with it by providing `read` and `listen`.
 *
 * @example
 * subscribe(options, handler) {
 *   return createPullSubscription({
 *     read: (after) => this.readAll({ after, limit: 500 }),
 *     listen: (onCommit) => this.onCommit(onCommit),
 *     after: options.after ?? 0,
 *     handler,
 *     onError: options.onError,
 *   });
 * }
 */
export function createPullSubscription(options: PullSubscriptionOptions): Subscription {
  let cursor = options.after;
  let closed = false;
  let running = false;
  let dirty = false;
  let settleCaughtUp: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const caughtUp = new Promise<void>((resolve, reject) => {
    settleCaughtUp = { resolve, reject };
  });
  // Callers that never await caughtUp must not see an unhandled rejection; onError reports it.
  caughtUp.catch(() => {});

  const close = () => {
    if (closed) return;
    closed = true;
    unlisten();
    settleCaughtUp?.resolve();
  };

  const pump = async (): Promise<void> => {
    if (running || closed) return;
    running = true;
    try {
      do {
        dirty = false;
        for (;;) {
          const page = await options.read(cursor);
          if (closed) return;
          if (page.length === 0) break;
          for (const entry of page) {
            if (closed) return;
            if (entry.checkpoint <= cursor) continue;
            await options.handler(entry);
            cursor = entry.checkpoint;
          }
        }
        settleCaughtUp?.resolve();
      } while (dirty && !closed);
    } catch (error) {
      settleCaughtUp?.reject(error);
      close();
      options.onError?.(error);
    } finally {
      running = false;
    }
  };

  const unlisten = options.listen(() => {
    dirty = true;
    void pump();
  });
  void pump();
  return { caughtUp, close };
}

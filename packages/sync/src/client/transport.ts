import type { ClientFrame, ServerFrame } from "../protocol/frames.ts";
import type { SnapshotsResponse, SnapshotWant } from "../protocol/snapshots.ts";

/** What a transport reports about one connection. */
export interface ConnectionListener {
  /** The connection is open: the engine sends `hello`. */
  onOpen(): void;
  /** A frame from the node, already parsed with the protocol schemas. */
  onFrame(frame: ServerFrame): void | Promise<void>;
  /** The connection is gone (closed, failed, refused); `error` says why when known. */
  onClose(error?: unknown): void;
}

/** How the engine means to use a connection (see {@link SyncTransport.connect}). */
export interface ConnectOptions {
  /**
   * Only to push what is pending, catch up and close (`syncOnce`), not to stay live: a
   * transport may serve it over something cheaper than a socket (the WebSocket transport uses
   * the node's HTTP routes).
   */
  once?: boolean;
}

/** One live connection to the node for one stream. */
export interface Connection {
  /** Sends one frame to the node. */
  send(frame: ClientFrame): void;
  /** Closes the connection (the engine's side: it no longer needs it). */
  close(): void;
}

/**
 * How the sync engine reaches the node. WebSocket (browser or Node), HTTP (polling fallback),
 * and an in-memory transport for tests implement it. A transport delivers the node's frames as
 * the node's socket sends them: after `welcome`, the catch-up `events` frames up to the welcomed
 * head (`more: true` until the last), which the engine waits for rather than pulling them.
 */
export interface SyncTransport {
  /**
   * Opens a connection for `stream`; `listener` hears it open, its frames and its close.
   * `options` says how the engine means to use it (a transport may ignore it).
   */
  connect(stream: string, listener: ConnectionListener, options?: ConnectOptions): Connection;
  /**
   * The node's latest states of `wants` on `stream` (`GET /v1/streams/:stream/snapshots`), for
   * a new device to start from (docs/architecture.md, "Snapshots for new devices"). Optional: a
   * transport without it always replays the whole log.
   */
  snapshots?(stream: string, wants: readonly SnapshotWant[]): Promise<SnapshotsResponse>;
}

/** Timers, injectable so tests run on virtual time. */
export interface Scheduler {
  /** Calls `callback` after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer set with `setTimeout`. */
  clearTimeout(handle: unknown): void;
  /** A number in [0, 1), for backoff jitter. */
  random(): number;
}

/** The real clock: `globalThis.setTimeout` and `Math.random`. */
export const realScheduler: Scheduler = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) =>
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  random: Math.random,
};

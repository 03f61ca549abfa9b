import type { SyncEngine } from "./sync-engine.ts";

/**
 * What {@link followNetworkStatus} listens to: a window, a worker's `self`, or a test double.
 * Internal: not exported; the docs show it inline.
 *
 * @inline
 */
interface OnlineEvents {
  addEventListener(type: "online" | "offline", listener: () => void): void;
  removeEventListener(type: "online" | "offline", listener: () => void): void;
  navigator?: { onLine?: boolean };
}

/**
 * Follows the browser's `online`/`offline` events: going offline closes the engine's sockets at
 * once (instead of waiting for timeouts); coming back reconnects without waiting for backoff.
 * Returns the function that stops following.
 *
 * @example
 * const unbind = followNetworkStatus(engine); // in a page or a worker (self)
 */
export function followNetworkStatus(
  engine: SyncEngine,
  target: OnlineEvents = globalThis as unknown as OnlineEvents,
): () => void {
  const online = () => engine.setOnline(true);
  const offline = () => engine.setOnline(false);
  if (target.navigator?.onLine === false) engine.setOnline(false);
  target.addEventListener("online", online);
  target.addEventListener("offline", offline);
  return () => {
    target.removeEventListener("online", online);
    target.removeEventListener("offline", offline);
  };
}

// internal: not exported. Who may do what on a MemoryNode, as on the node
// (docs/architecture.md, "Auth" and "Many streams"): a caller's `streams` grants decide access
// to a stream (`forbidden` when short of what is needed) and the streams a listing or watch
// may show; a connection lives until its token's expiry (an `unauthorized` frame, then 4401).
import { ChronicleError } from "@chronicle/core";
import type { Scheduler } from "../client/transport.ts";
import { accessFor, allows, type StreamAccess } from "../protocol/access.ts";
import { grantsUnder } from "../protocol/directory.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import type { AcceptOptions, MemoryNodeCaller } from "./memory-node.ts";

/**
 * The caller's access to `stream` when it is at least `needed` (`forbidden` otherwise). A
 * caller without `streams` may write everything.
 */
export function accessTo(
  caller: MemoryNodeCaller,
  who: string,
  stream: string,
  needed: StreamAccess,
): StreamAccess {
  const access = caller.streams ? accessFor(caller.streams, stream) : "write";
  if (!allows(access, needed)) {
    throw new ChronicleError("forbidden", `token of ${who} may not ${needed} ${stream}`, {
      details: { stream, needed },
    });
  }
  return access!;
}

/** The caller's grants under a prefix (`forbidden` when none may read there), as the Worker's. */
export function readableUnder(
  caller: MemoryNodeCaller,
  who: string,
  prefix: string,
): "all" | string[] {
  const grants = caller.streams ? grantsUnder(caller.streams, prefix) : "all";
  if (grants !== "all" && grants.length === 0) {
    throw new ChronicleError("forbidden", `token of ${who} may read no stream under ${prefix}`, {
      details: { prefix, needed: "read" },
    });
  }
  return grants;
}

/** A connection's life: open until closed or its token's expiry. */
export interface Lifetime {
  /** Not closed yet. */
  readonly open: boolean;
  /** The token has expired (nothing more may be delivered). */
  expired(): boolean;
  /** Ends the connection for its expired token: an `unauthorized` frame, then close code 4401. */
  expire(req?: string): void;
  /** Ends the connection (no frame). */
  close(): void;
}

/**
 * Starts a connection's life: `send` carries the expiry's error frame, `onEnd` runs once it
 * ends, and a timer on `scheduler` ends it at the caller's `expiresAt`.
 */
export function startLifetime(
  caller: MemoryNodeCaller,
  clock: {
    now: () => number;
    scheduler: Pick<Scheduler, "setTimeout" | "clearTimeout">;
  },
  send: (frame: ServerFrame) => void,
  options: AcceptOptions,
  onEnd: () => void,
): Lifetime {
  const { now, scheduler } = clock;
  let open = true;
  let alarm: unknown;
  const expired = () => caller.expiresAt !== undefined && now() >= caller.expiresAt;
  const close = () => {
    open = false;
    onEnd();
    scheduler.clearTimeout(alarm);
  };
  const expire = (req?: string) => {
    if (!open) return;
    send({ t: "error", ...(req ? { req } : {}), code: "unauthorized", message: "token expired" });
    close();
    options.onClose?.(4401, "token expired");
  };
  // Timers cannot wait longer than 2^31 - 1 ms (a longer delay fires at once): a far expiry is
  // waited for in steps.
  const arm = (at: number) => {
    const delay = Math.min(Math.max(0, at - now()), 2 ** 31 - 1);
    alarm = scheduler.setTimeout(() => (expired() ? expire() : arm(at)), delay);
  };
  if (caller.expiresAt !== undefined) arm(caller.expiresAt);
  return {
    get open() {
      return open;
    },
    expired,
    expire,
    close,
  };
}

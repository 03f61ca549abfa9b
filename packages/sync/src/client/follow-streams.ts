// Following many streams over one connection (docs/architecture.md, "Many streams"). Invariants:
// 1. One socket: the follower holds at most one watch socket (`GET /v1/watch?prefix=`) however
//    many streams it follows; `connections` counts it. Syncing a stream that moved uses the sync
//    engine's `syncOnce` (its transport's connection for that stream, closed when done), at most
//    `concurrency` at a time.
// 2. A stream is synced when the node's head passes the local confirmed head, checked when its
//    turn comes (a stream that moved again meanwhile is synced once more, never twice at once).
//    Every (re)connection brings the current heads again, so a change missed while disconnected,
//    or a sync that failed, is caught up on the next connection.
// 3. Reconnects back off from `initialMs` to `maxMs` with jitter; the token is asked for again on
//    every connection (an expired one closes the socket with 4401: reconnect at once). A refusal
//    with 403 (the token reads nothing under the prefix) or 400 (a bad prefix) stops the follower
//    (state `error`). A browser's WebSocket cannot see why an upgrade failed, so a socket that
//    closes before opening asks the listing route once with the same token why (as the
//    WebSocket transport's `probeRefusals`).
// 4. Two heartbeats unanswered mean the connection is dead: it is closed and reconnected.
import { ChronicleError, type LocalLog } from "@chronicle/core";
import { parseWatchFrame, type StreamHead } from "../protocol/directory.ts";
import { HEARTBEAT } from "../protocol/limits.ts";
import type { SyncEngine } from "./sync-engine.ts";
import { resolveToken, type TokenSource } from "./token.ts";
import { realScheduler, type Scheduler } from "./transport.ts";
import type { WebSocketConstructor } from "./websocket-transport.ts";

/** What {@link followStreams} takes. */
export interface FollowStreamsOptions {
  /** The node's base URL: `http://127.0.0.1:8787` or `https://sync.example.com` (ws/wss is derived). */
  url: string;
  /** Follow the streams whose id starts with this; it holds a ':' (e.g. `"board:"`). */
  prefix: string;
  /** A bearer token, or a function returning a fresh one, called for each connection. */
  token?: TokenSource;
  /**
   * The sync engine that syncs a stream whose node head passes the local one (`syncOnce`).
   * Without it the follower only reports heads (`onHeads`).
   */
  engine?: Pick<SyncEngine, "syncOnce">;
  /** The local log the engine writes to: where the local confirmed heads are read. Needed with `engine`. */
  local?: Pick<LocalLog, "confirmedHead">;
  /** Which streams to sync when they move (the others are only reported). @default every stream */
  shouldSync?: (stream: string) => boolean;
  /** Streams synced at once. @default 4 */
  concurrency?: number;
  /** Heads as the node sends them: all of them on each connection, then those that moved. */
  onHeads?: (heads: StreamHead[]) => void;
  /** A stream's sync failed (it is retried on the next change or connection), or the socket did. */
  onError?: (error: ChronicleError, stream?: string) => void;
  /** The WebSocket class: the global one in browsers; `ws`'s in Node 20. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Send a heartbeat this often; two silent intervals mean the connection is dead. @default 20000 */
  heartbeatMs?: number;
  /** Reconnect backoff: doubles from `initialMs` up to `maxMs`, with jitter. @default { initialMs: 250, maxMs: 30000 } */
  backoff?: {
    /** The first delay. @default 250 */
    initialMs?: number;
    /** The longest delay. @default 30000 */
    maxMs?: number;
  };
  /** Timers and randomness (virtual in tests). @default real timers and Math.random */
  scheduler?: Scheduler;
  /** Asks `GET /v1/streams` why an upgrade failed when the WebSocket cannot tell (invariant 3). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** The follower's connection: `live` once the node's current heads have arrived. */
export type FollowState = "connecting" | "live" | "unauthorized" | "error" | "closed";

/** What {@link followStreams} returns. */
export interface StreamFollower {
  /** The node heads learned so far, by stream. */
  readonly heads: ReadonlyMap<string, number>;
  /** Open watch sockets: 0 or 1 (invariant 1). */
  readonly connections: number;
  /** Where the connection stands. */
  readonly state: FollowState;
  /** Resolves when the node's current heads have first arrived. */
  ready(): Promise<void>;
  /** Resolves when no sync is running or waiting (every stream that moved is caught up or failed). */
  idle(): Promise<void>;
  /** Closes the socket and stops syncing. */
  close(): void;
}

/** The part of the WHATWG WebSocket API used here (browsers' and `ws`'s sockets both have it). */
interface SocketLike {
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on?(
    event: "unexpected-response",
    listener: (request: unknown, response: { statusCode?: number }) => void,
  ): unknown;
}

const OPEN = 1;

/**
 * Follows every stream under a prefix over one WebSocket (`GET /v1/watch`): the node sends the
 * heads of the streams the token may read, then the heads that move (within a second), and the
 * follower has the sync engine `syncOnce` each stream whose node head passes the local one.
 * A device following hundreds of streams holds one connection, plus one per stream being synced.
 *
 * @example
 * const engine = createSyncEngine({ local, transport: createWebSocketTransport({ url, token }), device: "laptop-1" });
 * const follower = followStreams({ url, token, prefix: "board:", engine, local });
 * await follower.ready(); // every board's head is known; the ones that moved are syncing
 * // later: follower.close();
 */
export function followStreams(options: FollowStreamsOptions): StreamFollower {
  if (options.engine && !options.local) {
    throw new Error("followStreams: `local` (the engine's LocalLog) is needed with `engine`");
  }
  const scheduler = options.scheduler ?? realScheduler;
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  const initialMs = options.backoff?.initialMs ?? 250;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const httpBase = options.url.replace(/^ws/, "http").replace(/\/$/, "");
  const base = httpBase.replace(/^http/, "ws");
  const doFetch =
    options.fetch ??
    (typeof globalThis.fetch === "function" ? globalThis.fetch.bind(globalThis) : undefined);
  /** Invariant 3: why the upgrade failed (`offline` when the listing answers, or nothing does). */
  const whyRefused = async (token: string | undefined): Promise<ChronicleError> => {
    if (!doFetch) return refusal(undefined);
    try {
      const response = await doFetch(
        `${httpBase}/v1/streams?prefix=${encodeURIComponent(options.prefix)}&limit=1`,
        { headers: token ? { authorization: `Bearer ${token}` } : {} },
      );
      await response.body?.cancel().catch(() => {});
      return refusal(response.ok ? undefined : response.status);
    } catch {
      return refusal(undefined);
    }
  };
  const heads = new Map<string, number>();
  // Invariant 2: streams waiting for a sync (with the head to reach) and those syncing.
  const wanted = new Map<string, number>();
  const running = new Set<string>();
  let idleWaiters: Array<() => void> = [];
  let state: FollowState = "connecting";
  let socket: SocketLike | undefined;
  let open = false;
  let closed = false;
  let attempts = 0;
  let reconnectTimer: unknown;
  let heartbeat: unknown;
  let silentBeats = 0;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  const report = (error: unknown, stream?: string) => {
    const coded =
      error instanceof ChronicleError
        ? error
        : new ChronicleError("internal", error instanceof Error ? error.message : String(error), {
            cause: error,
          });
    options.onError?.(coded, stream);
  };

  const settleIdle = () => {
    if (wanted.size > 0 || running.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  };

  const pump = () => {
    for (const [stream] of wanted) {
      if (running.size >= concurrency) return;
      if (running.has(stream)) continue;
      void syncStream(stream);
    }
    settleIdle();
  };

  const syncStream = async (stream: string) => {
    running.add(stream);
    const target = wanted.get(stream) ?? 0;
    wanted.delete(stream);
    try {
      const localHead = await options.local!.confirmedHead(stream);
      if (!closed && localHead < target) await options.engine!.syncOnce(stream);
    } catch (error) {
      report(error, stream);
    } finally {
      running.delete(stream);
      if (!closed) pump();
      else settleIdle();
    }
  };

  const onHeads = (entries: StreamHead[]) => {
    for (const { stream, head } of entries) {
      heads.set(stream, head);
      if (!options.engine || !(options.shouldSync?.(stream) ?? true)) continue;
      wanted.set(stream, Math.max(head, wanted.get(stream) ?? 0));
    }
    options.onHeads?.(entries);
    pump();
  };

  const stopHeartbeat = () => {
    scheduler.clearTimeout(heartbeat);
    heartbeat = undefined;
  };
  const beat = () => {
    heartbeat = scheduler.setTimeout(() => {
      if (closed || !socket || socket.readyState !== OPEN) return;
      if (++silentBeats > 2) {
        report(new ChronicleError("offline", "the node stopped answering heartbeats"));
        drop();
        return;
      }
      socket.send(HEARTBEAT.ping);
      beat();
    }, heartbeatMs);
  };

  /** The current socket is gone: reconnect (invariant 3) unless stopped. */
  const drop = (immediately = false, error?: ChronicleError) => {
    const gone = socket;
    socket = undefined;
    open = false;
    stopHeartbeat();
    if (gone) {
      gone.onopen = gone.onmessage = gone.onclose = null;
      try {
        gone.close();
      } catch {
        // already closing
      }
    }
    if (closed) return;
    if (error && isFinal(error)) {
      state = "error";
      report(error);
      return;
    }
    if (state !== "unauthorized") state = "connecting";
    if (error) report(error);
    const delay = immediately
      ? 0
      : Math.min(maxMs, initialMs * 2 ** attempts) * (0.5 + scheduler.random() / 2);
    attempts += 1;
    reconnectTimer = scheduler.setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
  };

  const connect = async () => {
    if (closed) return;
    let token: string | undefined;
    try {
      token = await resolveToken(options.token);
    } catch (error) {
      state = "unauthorized";
      drop(false, error as ChronicleError);
      return;
    }
    if (closed) return;
    const Socket =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Socket)
      throw new Error("no WebSocket class: pass `WebSocket` (e.g. from the ws package) in Node");
    const query = `?prefix=${encodeURIComponent(options.prefix)}${token ? `&token=${encodeURIComponent(token)}` : ""}`;
    const current = new Socket(`${base}/v1/watch${query}`) as SocketLike;
    socket = current;
    let expired = false;
    let refused = false;
    current.on?.("unexpected-response", (_request, response) => {
      if (socket !== current) return;
      refused = true;
      const status = response.statusCode;
      if (status === 401) state = "unauthorized";
      drop(false, refusal(status));
    });
    current.onopen = () => {
      if (socket !== current) return;
      open = true;
      silentBeats = 0;
      beat();
    };
    current.onmessage = (event) => {
      if (socket !== current) return;
      silentBeats = 0;
      if (event.data === HEARTBEAT.pong) return;
      try {
        const frame = parseWatchFrame(
          typeof event.data === "string" ? event.data : String(event.data),
        );
        if (frame.t === "error") {
          if (frame.code === "unauthorized") expired = true;
          report(new ChronicleError("protocol", frame.message, { details: { code: frame.code } }));
          return;
        }
        if (!frame.more && state !== "live") {
          state = "live";
          attempts = 0;
          resolveReady();
        }
        onHeads(frame.streams);
      } catch (error) {
        drop(false, error as ChronicleError);
      }
    };
    current.onerror = () => {};
    current.onclose = (event) => {
      if (socket !== current) return;
      // 4401: the token expired: a fresh one at once (invariant 3).
      if (event.code === 4401 || expired) drop(true);
      else if (event.code === 4403) drop(false, refusal(403));
      else if (open || refused) drop();
      else {
        // Closed before opening, cause unknown (a browser): ask why (invariant 3).
        void whyRefused(token).then((error) => {
          if (socket !== current) return;
          if (error.code === "unauthorized") state = "unauthorized";
          drop(false, error);
        });
      }
    };
  };

  void connect();

  return {
    heads,
    get connections() {
      return socket !== undefined && open ? 1 : 0;
    },
    get state() {
      return state;
    },
    ready: () => readyPromise,
    idle() {
      if (wanted.size === 0 && running.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    close() {
      if (closed) return;
      closed = true;
      state = "closed";
      scheduler.clearTimeout(reconnectTimer);
      stopHeartbeat();
      const gone = socket;
      socket = undefined;
      open = false;
      wanted.clear();
      gone?.close(1000, "client closed");
      settleIdle();
    },
  };
}

/** Refusals that another attempt with the same options cannot fix (invariant 3). */
function isFinal(error: ChronicleError): boolean {
  return error.code === "forbidden" || error.code === "validation";
}

/** A refused upgrade's HTTP status as a coded error. */
function refusal(status: number | undefined): ChronicleError {
  if (status === 401) return new ChronicleError("unauthorized", "the node refused the token (401)");
  if (status === 403) {
    return new ChronicleError("forbidden", "the token may read no stream under this prefix (403)");
  }
  if (status === 400) return new ChronicleError("validation", "the node refused the prefix (400)");
  return new ChronicleError("offline", `the watch socket closed (${status ?? "no status"})`);
}

// Sync over WebSockets. How a connection ends tells the session what to do next:
// 1. The node closes a socket whose token expired with an `unauthorized` error frame, then close
//    code 4401 ("reconnect with a new one"); 4403 means the token does not grant the stream.
//    Both become coded errors; a plain close (the network, a restart) carries none.
// 2. A refused upgrade is an HTTP status. `ws` (Node) reports it; a browser's WebSocket cannot
//    (it sees close code 1006 whatever the cause), so when a socket closes before opening and the
//    status is unknown, the transport asks the node's HTTP route once, with the same token, why
//    (`probeRefusals`): 401 `unauthorized`, 403 `forbidden`, 429 `rate-limited` (with
//    `Retry-After`), anything else or no answer `offline`.
// 3. The token is resolved for every connection (token.ts), never reused.
// 4. A connection asked for `once` (syncOnce: push, catch up, close) goes over the node's HTTP
//    routes, as the HTTP transport speaks them (http-transport.ts), when `fetch` exists: no
//    upgrade to wait for, and a browser opens sockets to one host one at a time, so catching up
//    hundreds of followed streams over sockets waited on the upgrades, not on the data.
import { ChronicleError } from "@chronicle/core";
import { HEARTBEAT } from "../protocol/limits.ts";
import { parseServerFrame } from "../protocol/parse.ts";
import type { SnapshotWant } from "../protocol/snapshots.ts";
import { fetchSnapshots } from "./fetch-snapshots.ts";
import { createHttpTransport } from "./http-transport.ts";
import { resolveToken, type TokenSource } from "./token.ts";
import {
  type Connection,
  type ConnectionListener,
  type ConnectOptions,
  realScheduler,
  type Scheduler,
  type SyncTransport,
} from "./transport.ts";

/** The part of the WHATWG WebSocket API the transport uses (browsers' and `ws`'s sockets both have it). */
interface SocketLike {
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: the HTTP answer when the upgrade was refused (e.g. 401). */
  on?(
    event: "unexpected-response",
    listener: (
      request: unknown,
      response: { statusCode?: number; headers?: Record<string, unknown> },
    ) => void,
  ): unknown;
}

/** A WebSocket class (the browser's, or `ws`'s in Node): what the transport constructs. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

/** What {@link createWebSocketTransport} takes. */
export interface WebSocketTransportOptions {
  /** The node's base URL: `http://127.0.0.1:8787` or `https://sync.example.com` (ws/wss is derived). */
  url: string;
  /**
   * A bearer token, or a function returning a fresh one, called for each connection (so an
   * expired token is replaced when the node closes the socket with 4401). A function that throws
   * makes the stream's status `unauthorized` with the reason; the engine asks again later.
   */
  token?: TokenSource;
  /** The WebSocket class: the global one in browsers; `ws`'s in Node 20. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Send a heartbeat this often; two silent intervals mean the connection is dead. @default 20000 */
  heartbeatMs?: number;
  /**
   * When a socket closes before opening and the WebSocket class cannot tell why (browsers),
   * ask the node's HTTP route once with the same token, to tell a refused token (401), a
   * stream the token does not grant (403) and rate limiting (429) from a network failure.
   * @default true when `fetch` exists
   */
  probeRefusals?: boolean;
  /**
   * Serve `syncOnce` connections (push what is pending, catch up, close) over the node's HTTP
   * routes (`GET`/`POST /v1/streams/:stream/events`, the token in `Authorization`) instead of a
   * socket; streams kept live (`start`) keep their socket.
   * @default true when `fetch` exists
   */
  syncOnceOverHttp?: boolean;
  /** For `probeRefusals`, `syncOnceOverHttp` and snapshots. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Timers for heartbeats (virtual in tests). @default realScheduler */
  scheduler?: Scheduler;
}

const OPEN = 1;

/**
 * Sync over WebSockets (`GET /v1/streams/:stream/ws`), one socket per live stream. The token
 * travels as `?token=` because browsers cannot set headers on a WebSocket; a token function is
 * called again for every connection.
 *
 * @example
 * const transport = createWebSocketTransport({ url: "http://127.0.0.1:8787", token: () => getToken() });
 * // Node 20: import WebSocket from "ws"; createWebSocketTransport({ url, token, WebSocket })
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): SyncTransport {
  const scheduler = options.scheduler ?? realScheduler;
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  const httpBase = options.url.replace(/^ws/, "http").replace(/\/$/, "");
  const base = httpBase.replace(/^http/, "ws");
  const doFetch =
    options.fetch ??
    (typeof globalThis.fetch === "function" ? globalThis.fetch.bind(globalThis) : undefined);
  const probe = options.probeRefusals ?? doFetch !== undefined;
  // Rule 4. It never polls: the session closes a once-connection when it is done.
  const once =
    doFetch !== undefined && (options.syncOnceOverHttp ?? true)
      ? createHttpTransport({
          url: httpBase,
          ...(options.token === undefined ? {} : { token: options.token }),
          fetch: doFetch,
          pollMs: 2 ** 31 - 1,
          scheduler,
        })
      : undefined;
  return {
    connect(stream: string, listener: ConnectionListener, how?: ConnectOptions): Connection {
      if (how?.once && once) return once.connect(stream, listener);
      let socket: SocketLike | undefined;
      let closed = false;
      let opened = false;
      let heartbeat: unknown;
      let silentBeats = 0;
      let refused = false;
      let token: string | undefined;
      const path = `/v1/streams/${encodeURIComponent(stream)}`;
      const finish = (error?: unknown) => {
        if (closed) return;
        closed = true;
        scheduler.clearTimeout(heartbeat);
        try {
          socket?.close();
        } catch {
          // already closing
        }
        listener.onClose(error);
      };
      const beat = () => {
        heartbeat = scheduler.setTimeout(() => {
          if (closed || !socket || socket.readyState !== OPEN) return;
          if (++silentBeats > 2)
            return finish(new ChronicleError("offline", "the node stopped answering heartbeats"));
          socket.send(HEARTBEAT.ping);
          beat();
        }, heartbeatMs);
      };
      // Rule 2: why did an upgrade fail that the WebSocket class could not report?
      const whyRefused = async (): Promise<ChronicleError | undefined> => {
        if (!probe || !doFetch) return undefined;
        try {
          const response = await doFetch(`${httpBase}${path}/events?after=0&limit=1`, {
            headers: token ? { authorization: `Bearer ${token}` } : {},
          });
          await response.body?.cancel().catch(() => {});
          if (response.ok) return undefined;
          return refusal(response.status, response.headers.get("retry-after"));
        } catch {
          return undefined;
        }
      };
      const open = async () => {
        token = await resolveToken(options.token);
        if (closed) return;
        const Socket =
          options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
        if (!Socket)
          throw new Error(
            "no WebSocket class: pass `WebSocket` (e.g. from the ws package) in Node",
          );
        const query = token ? `?token=${encodeURIComponent(token)}` : "";
        socket = new Socket(`${base}${path}/ws${query}`) as SocketLike;
        socket.on?.("unexpected-response", (_request, response) => {
          refused = true;
          finish(refusal(response.statusCode, response.headers?.["retry-after"]));
        });
        socket.onopen = () => {
          if (closed) return;
          opened = true;
          beat();
          listener.onOpen();
        };
        socket.onmessage = (event) => {
          if (closed) return;
          silentBeats = 0;
          if (event.data === HEARTBEAT.pong) return;
          let frame: ReturnType<typeof parseServerFrame>;
          try {
            frame = parseServerFrame(
              typeof event.data === "string" ? event.data : String(event.data),
            );
          } catch (error) {
            return finish(error);
          }
          void listener.onFrame(frame);
        };
        socket.onerror = () => {};
        socket.onclose = (event) => {
          if (closed) return;
          const coded = closeError(event.code, event.reason);
          if (coded || opened || refused) return finish(coded);
          // Closed before opening, cause unknown (a browser): ask why (rule 2).
          void whyRefused().then(finish);
        };
      };
      open().catch((error) => finish(error));
      return {
        send(frame) {
          if (!closed && socket?.readyState === OPEN) socket.send(JSON.stringify(frame));
        },
        close() {
          if (closed) return;
          closed = true;
          scheduler.clearTimeout(heartbeat);
          socket?.close(1000, "client closed");
        },
      };
    },
    // Over HTTP, with the token in the Authorization header: only when fetch exists.
    ...(doFetch === undefined
      ? {}
      : {
          snapshots: (stream: string, wants: readonly SnapshotWant[]) =>
            fetchSnapshots({ base: httpBase, token: options.token, fetch: doFetch }, stream, wants),
        }),
  };
}

/** Rule 1: the close codes that carry a reason. */
function closeError(code: number, reason: string): ChronicleError | undefined {
  // 4401: the token expired ("reconnect with a new one"); 1008 (policy): a node refusing a
  // token mid-connection; 4403: the token does not grant the stream.
  if (code === 4401 || code === 1008)
    return new ChronicleError("unauthorized", reason || "the node refused the token");
  if (code === 4403)
    return new ChronicleError("forbidden", reason || "the token does not allow this stream");
  return undefined;
}

/** A refused upgrade's HTTP status as a coded error (`Retry-After` in seconds for 429). */
function refusal(status: number | undefined, retryAfter?: unknown): ChronicleError {
  if (status === 401) return new ChronicleError("unauthorized", "the node refused the token (401)");
  if (status === 403)
    return new ChronicleError("forbidden", "the token does not allow this stream (403)");
  if (status === 429) {
    const seconds = Number(retryAfter);
    return new ChronicleError("rate-limited", "the node is rate limiting (429)", {
      ...(Number.isFinite(seconds) && seconds > 0 ? { details: { retryAfter: seconds } } : {}),
    });
  }
  return new ChronicleError(
    "offline",
    `the node refused the connection (${status ?? "no status"})`,
  );
}

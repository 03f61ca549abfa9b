import { ChronicleError } from "@chronicle/core";
import { HEARTBEAT } from "../protocol/limits.ts";
import { parseServerFrame } from "../protocol/parse.ts";
import {
  type Connection,
  type ConnectionListener,
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
    listener: (request: unknown, response: { statusCode?: number }) => void,
  ): unknown;
}

/** A WebSocket class (the browser's, or `ws`'s in Node): what the transport constructs. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

/** What {@link createWebSocketTransport} takes. */
export interface WebSocketTransportOptions {
  /** The node's base URL: `http://127.0.0.1:8787` or `https://sync.example.com` (ws/wss is derived). */
  url: string;
  /** A bearer token, or a function returning a fresh one for each connection. */
  token?: string | (() => string | Promise<string>);
  /** The WebSocket class: the global one in browsers; `ws`'s in Node 20. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Send a heartbeat this often; two silent intervals mean the connection is dead. @default 20000 */
  heartbeatMs?: number;
  /** Timers for heartbeats (virtual in tests). @default realScheduler */
  scheduler?: Scheduler;
}

const OPEN = 1;

/**
 * Sync over WebSockets (`GET /v1/streams/:stream/ws`), one socket per live stream. The token
 * travels as `?token=` because browsers cannot set headers on a WebSocket.
 *
 * @example
 * const transport = createWebSocketTransport({ url: "http://127.0.0.1:8787", token: () => getToken() });
 * // Node 20: import WebSocket from "ws"; createWebSocketTransport({ url, token, WebSocket })
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): SyncTransport {
  const scheduler = options.scheduler ?? realScheduler;
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  const base = options.url.replace(/^http/, "ws").replace(/\/$/, "");
  return {
    connect(stream: string, listener: ConnectionListener): Connection {
      let socket: SocketLike | undefined;
      let closed = false;
      let heartbeat: unknown;
      let silentBeats = 0;
      let refusedStatus: number | undefined;
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
      const open = async () => {
        const token = typeof options.token === "function" ? await options.token() : options.token;
        if (closed) return;
        const Socket =
          options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
        if (!Socket)
          throw new Error(
            "no WebSocket class: pass `WebSocket` (e.g. from the ws package) in Node",
          );
        const query = token ? `?token=${encodeURIComponent(token)}` : "";
        socket = new Socket(
          `${base}/v1/streams/${encodeURIComponent(stream)}/ws${query}`,
        ) as SocketLike;
        socket.on?.("unexpected-response", (_request, response) => {
          refusedStatus = response.statusCode;
          finish(refusal(refusedStatus));
        });
        socket.onopen = () => {
          if (closed) return;
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
          // 1008 (policy) is what a node that refuses a token mid-connection closes with.
          finish(
            event.code === 1008
              ? new ChronicleError("unauthorized", event.reason || "refused by the node")
              : undefined,
          );
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
  };
}

function refusal(status: number | undefined): ChronicleError {
  if (status === 401) return new ChronicleError("unauthorized", "the node refused the token (401)");
  if (status === 403)
    return new ChronicleError("forbidden", "the token does not allow this stream (403)");
  if (status === 429) return new ChronicleError("rate-limited", "the node is rate limiting (429)");
  return new ChronicleError(
    "offline",
    `the node refused the connection (${status ?? "no status"})`,
  );
}

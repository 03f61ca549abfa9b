// internal: not exported (a MemoryTransport's `WebSocket` and `fetch`). The node's routes that
// no SyncTransport method carries, for clients that open them themselves (`followStreams`):
// a WebSocket class whose `ws://…/v1/watch?prefix=&token=` reaches `MemoryNode.watch`, and a
// `fetch` whose `GET /v1/streams?…` (token in `Authorization: Bearer`) reaches
// `MemoryNode.listStreams`. The URL's host is not looked at. As on a real node:
// 1. a refused upgrade never opens: listeners of `unexpected-response` (as `ws`'s) hear its HTTP
//    status, then the socket closes with 1006 (a browser's WebSocket learns nothing more);
// 2. the node ending a socket (4401 at the token's expiry) closes it after the frames it sent;
// 3. an error is answered as the node's HTTP errors: the status of its code and a body
//    `{ code, message, ...details }`; an offline device's fetch rejects like a network failure.
import { ChronicleError, type ErrorCode, toChronicleError } from "@chronicle/core";
import type { WebSocketConstructor } from "../client/websocket-transport.ts";
import type { MemoryNode, NodeSocket } from "./memory-node.ts";

/** A connection the carrier may cut (see MemoryNetwork's links). */
export interface WebLink {
  open: boolean;
  close(error?: unknown): void;
}

/** How frames and events cross between a device and the node. */
export interface WebCarrier {
  /** Delivers one frame of a connection later, in order (the network's faults may apply). */
  frame(link: WebLink, step: () => void): void;
  /** Runs a connection event later, in order, without faults. */
  later(link: WebLink, step: () => void): void;
  /** Whether the device reaches the node. */
  readonly online: boolean;
  /** Tracks an open connection, cut when the device goes offline; returns its release. */
  hold(link: WebLink): () => void;
}

/** The node's routes the adapters reach. */
export type WebNode = Pick<MemoryNode, "watch" | "listStreams">;

/** HTTP statuses of the codes these routes answer with (docs/architecture.md, "HTTP errors"). */
const statusByCode: Partial<Record<ErrorCode, number>> = {
  validation: 400,
  protocol: 400,
  unauthorized: 401,
  forbidden: 403,
  "not-found": 404,
  "too-large": 413,
  "rate-limited": 429,
};

const statusOf = (code: ErrorCode) => statusByCode[code] ?? 500;

/** A link that is never cut: for events that must arrive after their connection closed. */
const always: WebLink = { open: true, close() {} };

/** `{ key: value }` of a URL's query, without the token (it is a credential, not a parameter). */
function queryOf(url: URL): Record<string, string> {
  const query = Object.fromEntries(url.searchParams);
  delete query.token;
  return query;
}

/** The WebSocket class of one device: sockets to the node's watch route (rules 1 and 2). */
export function memoryWebSocket(node: WebNode, carrier: WebCarrier): WebSocketConstructor {
  return class MemoryWebSocket {
    readyState = 0;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    readonly url: string;
    readonly #refusals: Array<(request: unknown, response: { statusCode: number }) => void> = [];
    readonly #link: WebLink;
    #socket: NodeSocket | undefined;
    #release = () => {};

    constructor(url: string, _protocols?: string | string[]) {
      this.url = url;
      this.#link = { open: true, close: () => this.#finish(1006, "network: connection cut") };
      if (!carrier.online) {
        this.#link.open = false;
        carrier.later(always, () => this.#finish(1006, "network: offline", true));
        return;
      }
      this.#release = carrier.hold(this.#link);
      carrier.later(this.#link, () => this.#open());
    }

    /** As `ws`'s: `unexpected-response` tells a refused upgrade's status (rule 1). */
    on(event: string, listener: (request: unknown, response: { statusCode: number }) => void) {
      if (event === "unexpected-response") this.#refusals.push(listener);
      return this;
    }

    send(data: string): void {
      if (this.readyState !== 1) return;
      carrier.frame(this.#link, () => this.#socket?.receive(String(data)));
    }

    close(code = 1000, reason = ""): void {
      this.#finish(code, reason);
    }

    #open(): void {
      const url = new URL(this.url);
      try {
        if (url.pathname.replace(/\/$/, "") !== "/v1/watch") {
          throw new ChronicleError(
            "not-found",
            `MemoryNode has no WebSocket route ${url.pathname}`,
          );
        }
        const token = url.searchParams.get("token") ?? undefined;
        this.#socket = node.watch(
          queryOf(url),
          (text) => carrier.frame(this.#link, () => this.onmessage?.({ data: text })),
          {
            ...(token === undefined ? {} : { token }),
            onClose: (code, reason) => carrier.later(this.#link, () => this.#finish(code, reason)),
          },
        );
      } catch (error) {
        const statusCode = statusOf(toChronicleError(error).code);
        for (const listener of this.#refusals) listener({}, { statusCode });
        this.onerror?.({});
        this.#finish(1006, `upgrade refused (${statusCode})`, true);
        return;
      }
      this.readyState = 1;
      this.onopen?.({});
    }

    /** Closes both sides; `onclose` is told later, like a socket's close event. */
    #finish(code: number, reason: string, failed = false): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.#link.open = false;
      this.#release();
      this.#socket?.close();
      if (failed || code === 1006) this.onerror?.({});
      carrier.later(always, () => this.onclose?.({ code, reason }));
    }
  };
}

/** The `fetch` of one device: the node's listing route (rule 3). */
export function memoryFetch(node: WebNode, carrier: WebCarrier): typeof fetch {
  const answer = (request: Request): Response => {
    const url = new URL(request.url);
    try {
      if (request.method !== "GET" || url.pathname.replace(/\/$/, "") !== "/v1/streams") {
        throw new ChronicleError(
          "not-found",
          `MemoryNode has no route ${request.method} ${url.pathname}`,
        );
      }
      const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
      const page = node.listStreams(queryOf(url), bearer === undefined ? {} : { token: bearer });
      return Response.json(page);
    } catch (error) {
      const coded = toChronicleError(error);
      return Response.json(
        { code: coded.code, message: coded.message, ...coded.details },
        { status: statusOf(coded.code) },
      );
    }
  };
  return ((input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return new Promise<Response>((resolve, reject) => {
      const fail = () => reject(new TypeError("fetch failed: network offline"));
      if (!carrier.online) return void carrier.later(always, fail);
      carrier.later(always, () => (carrier.online ? resolve(answer(request)) : fail()));
    });
  }) as typeof fetch;
}

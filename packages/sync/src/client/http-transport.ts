import { ChronicleError, isErrorCode } from "@chronicle/core";
import {
  type ClientFrame,
  pullResponse,
  pushResponse,
  type ServerFrame,
} from "../protocol/frames.ts";
import {
  type Connection,
  type ConnectionListener,
  realScheduler,
  type Scheduler,
  type SyncTransport,
} from "./transport.ts";

/** What {@link createHttpTransport} takes. */
export interface HttpTransportOptions {
  /** The node's base URL, e.g. `https://sync.example.com`. */
  url: string;
  /** A bearer token, or a function returning a fresh one, called for each request. */
  token?: string | (() => string | Promise<string>);
  /** How often a live stream polls for new events. @default 5000 */
  pollMs?: number;
  /** The fetch function requests go through. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Timers for polling (virtual in tests). @default realScheduler */
  scheduler?: Scheduler;
}

/**
 * Sync over plain HTTP for clients that cannot hold a socket: pushes are `POST`s, pulls are
 * `GET`s, and a live stream polls. It speaks to the engine in the same frames as a socket.
 * The node's epoch comes from the `X-Chronicle-Epoch` header of its answers.
 *
 * @example
 * const transport = createHttpTransport({ url: "https://sync.example.com", token, pollMs: 10_000 });
 */
export function createHttpTransport(options: HttpTransportOptions): SyncTransport {
  const scheduler = options.scheduler ?? realScheduler;
  const pollMs = options.pollMs ?? 5_000;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = options.url.replace(/\/$/, "");

  return {
    connect(stream: string, listener: ConnectionListener): Connection {
      let closed = false;
      let poll: unknown;
      let head = 0;
      // The node names its log's epoch in a header on every answer.
      let epoch: string | undefined;
      const url = `${base}/v1/streams/${encodeURIComponent(stream)}/events`;
      const request = async (init: RequestInit & { query?: string } = {}) => {
        const token = typeof options.token === "function" ? await options.token() : options.token;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (token) headers.authorization = `Bearer ${token}`;
        const response = await doFetch(`${url}${init.query ?? ""}`, { ...init, headers });
        const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
        epoch = response.headers.get("x-chronicle-epoch") ?? epoch;
        return { status: response.status, body };
      };
      const deliver = (frame: ServerFrame) => {
        if (!closed) void listener.onFrame(frame);
      };
      const fail = (error: unknown) => {
        if (closed) return;
        closed = true;
        scheduler.clearTimeout(poll);
        listener.onClose(error);
      };
      const pull = async (after: number, limit: number, req?: string) => {
        const { status, body } = await request({ query: `?after=${after}&limit=${limit}` });
        if (status !== 200) return errorFrame(status, body, req);
        const page = pullResponse.parse(body);
        head = Math.max(head, page.head);
        return {
          t: "events",
          events: page.events,
          head: page.head,
          more: page.more,
          ...(req ? { req } : {}),
        } as ServerFrame;
      };
      const schedulePoll = () => {
        poll = scheduler.setTimeout(() => {
          pull(head, 1000)
            .then((frame) => {
              if (frame.t === "events" && frame.events.length > 0) deliver(frame);
              if (frame.t === "error") return fail(ChronicleError.fromJSON(frame));
              schedulePoll();
            })
            .catch(fail);
        }, pollMs);
      };
      const handle = async (frame: ClientFrame) => {
        switch (frame.t) {
          case "hello": {
            const page = await pull(frame.after, 1000);
            if (page.t === "error") return fail(ChronicleError.fromJSON(page));
            deliver({
              t: "welcome",
              epoch: frame.epoch ?? "http",
              head: page.t === "events" ? page.head : 0,
            });
            if (page.t === "events" && page.events.length > 0) deliver(page);
            schedulePoll();
            return;
          }
          case "pull":
            return deliver(await pull(frame.after, frame.limit ?? 500, frame.req));
          case "push": {
            const { status, body } = await request({
              method: "POST",
              body: JSON.stringify({
                events: frame.events,
                ...(frame.expected === undefined ? {} : { expected: frame.expected }),
              }),
            });
            if (status === 200)
              return deliver({
                t: "ack",
                req: frame.req,
                results: pushResponse.parse(body).results,
              });
            if (status === 409 && body.code === "conflict") {
              return deliver({ t: "conflict", req: frame.req, head: Number(body.head) || 0 });
            }
            return deliver(errorFrame(status, body, frame.req));
          }
        }
      };
      scheduler.setTimeout(() => {
        if (!closed) listener.onOpen();
      }, 0);
      return {
        send(frame) {
          if (!closed) handle(frame).catch(fail);
        },
        close() {
          closed = true;
          scheduler.clearTimeout(poll);
        },
      };
    },
  };
}

function errorFrame(status: number, body: Record<string, unknown>, req?: string): ServerFrame {
  const code = isErrorCode(body.code) ? body.code : status >= 500 ? "internal" : "protocol";
  const message = typeof body.message === "string" ? body.message : `HTTP ${status}`;
  return { t: "error", code, message, ...(req ? { req } : {}) };
}

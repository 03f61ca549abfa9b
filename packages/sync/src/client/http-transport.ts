// Sync over plain HTTP, speaking to the session in the frames a socket would carry:
// 1. The node's epoch is the `X-Chronicle-Epoch` header of its answers. `welcome` reports it (not
//    the client's stored one), so a recreated log is noticed as over WebSockets. As a socket
//    does, the welcome is followed by the log after the hello's cursor, page by page up to the
//    welcomed head (`more` until the last); a hello whose epoch differs gets the log from the
//    start (its cursor points into another log).
// 2. An answer whose epoch differs from the one welcomed ends the connection (`offline`) before
//    its content reaches the session: positions of another log must not mix with ours. The
//    session reconnects, and the new hello sees the new epoch.
// 3. An answer without the header is a `protocol` failure: without it a recreated log would go
//    unnoticed (a proxy or CORS setting that hides it must expose it).
// 4. Error bodies keep their details (`path`, `id`, `position`, `limit`, `retryAfter`, with
//    `Retry-After` as `retryAfter` when the body has none).
// 5. The token travels in the Authorization header only (a `?token=` on HTTP routes is
//    refused), resolved for every request.
import { ChronicleError, isErrorCode } from "@chronicle/core";
import {
  type ClientFrame,
  pullResponse,
  pushResponse,
  type ServerFrame,
} from "../protocol/frames.ts";
import { fetchSnapshots } from "./fetch-snapshots.ts";
import { resolveToken, type TokenSource } from "./token.ts";
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
  token?: TokenSource;
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
      // The epoch this connection was welcomed with (rules 1 and 2).
      let welcomed: string | undefined;
      const url = `${base}/v1/streams/${encodeURIComponent(stream)}/events`;
      const request = async (init: RequestInit & { query?: string } = {}) => {
        const token = await resolveToken(options.token);
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (token) headers.authorization = `Bearer ${token}`;
        const response = await doFetch(`${url}${init.query ?? ""}`, { ...init, headers });
        const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
        const retryAfter = Number(response.headers.get("retry-after"));
        if (Number.isFinite(retryAfter) && retryAfter > 0 && body.retryAfter === undefined) {
          body.retryAfter = retryAfter;
        }
        const epoch = response.headers.get("x-chronicle-epoch") ?? undefined;
        if (response.ok && epoch === undefined) {
          throw new ChronicleError(
            "protocol",
            "the node's answer has no X-Chronicle-Epoch header (a proxy or CORS setting may hide it)",
          );
        }
        if (epoch !== undefined && welcomed !== undefined && epoch !== welcomed) {
          throw new ChronicleError(
            "offline",
            `the node's log of ${stream} was recreated (epoch ${epoch}): reconnecting`,
          );
        }
        return { status: response.status, body, epoch };
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
        const { status, body, epoch } = await request({ query: `?after=${after}&limit=${limit}` });
        if (status !== 200) return { frame: errorFrame(status, body, req), epoch };
        const page = pullResponse.parse(body);
        head = Math.max(head, page.head);
        const frame: ServerFrame = {
          t: "events",
          events: page.events,
          head: page.head,
          more: page.more,
          ...(req ? { req } : {}),
        };
        return { frame, epoch };
      };
      const schedulePoll = () => {
        poll = scheduler.setTimeout(() => {
          pull(head, 1000)
            .then(({ frame }) => {
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
            const first = await pull(frame.after, 1000);
            if (first.frame.t === "error") return fail(ChronicleError.fromJSON(first.frame));
            welcomed = first.epoch!;
            const welcomedHead = first.frame.t === "events" ? first.frame.head : 0;
            deliver({ t: "welcome", epoch: welcomed, head: welcomedHead });
            // Rule 1: the catch-up, from the start when the cursor points into another log.
            const sameLog = frame.epoch === undefined || frame.epoch === welcomed;
            if ((sameLog ? frame.after : 0) < welcomedHead) {
              let page = sameLog ? first.frame : (await pull(0, 1000)).frame;
              while (!closed) {
                if (page.t === "error") return fail(ChronicleError.fromJSON(page));
                if (page.t !== "events") break;
                deliver(page);
                const last = page.events.at(-1)?.position;
                if (!page.more || last === undefined) break;
                page = (await pull(last, 1000)).frame;
              }
            }
            schedulePoll();
            return;
          }
          case "pull":
            return deliver((await pull(frame.after, frame.limit ?? 500, frame.req)).frame);
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
    snapshots: (stream, wants) =>
      fetchSnapshots({ base, token: options.token, fetch: doFetch }, stream, wants),
  };
}

/** An HTTP error answer as the `error` frame a socket would carry, details kept (rule 4). */
function errorFrame(status: number, body: Record<string, unknown>, req?: string): ServerFrame {
  const { code: bodyCode, message: bodyMessage, ...details } = body;
  const code = isErrorCode(bodyCode) ? bodyCode : codeOfStatus(status);
  const message = typeof bodyMessage === "string" ? bodyMessage : `HTTP ${status}`;
  return {
    t: "error",
    code,
    message,
    ...(req ? { req } : {}),
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
}

// A status without a coded body (a proxy's answer, say).
function codeOfStatus(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 429) return "rate-limited";
  if (status === 413) return "too-large";
  return status >= 500 ? "internal" : "protocol";
}

// The StreamDirectory Durable Object: the node's list of the streams of one space (the text
// before a stream id's first ':'; one object per space, named by it) and their heads, and the
// watch sockets of that space. Invariants (docs/architecture.md, "Many streams"):
// 1. Every StreamLog of the space tells this object its head after each commit, at least once
//    (stream-log/directory-notifier.ts). A notice only ever raises a row's head: duplicates and
//    late notices of lower heads change nothing; a notice of another epoch (a recreated log)
//    replaces the row.
// 2. A caller sees only streams its token may read: listings and heads frames are filtered by the
//    token's grants under the prefix, which the Worker computed (`grantsUnder`) and which a
//    socket keeps in its attachment.
// 3. A watch socket gets the current heads on connecting (`more: true` until the last of them),
//    then a `heads` frame of the streams that moved: coalesced, at most one frame per socket every
//    `coalesceMs`, so a change reaches it within that delay plus the notice's trip.
// 4. A socket does not outlive its token: nothing is sent to it past its `exp`, and an alarm at
//    the earliest `exp` closes it (error `unauthorized`, close code 4401), as a stream's socket.
// 5. Bounded: frames are paged under the frame limit; a listing scans at most `scanCap` rows per
//    page (a page may then hold fewer than `limit` streams and still have `next`); upgrades and
//    listings take a token of the subject's rate limit, as a stream's requests do.
// The Worker authenticates and authorizes before calling any method here.
import { DurableObject } from "cloudflare:workers";
import { ChronicleError } from "@chronicle/core";
import { HEARTBEAT, readableUnder, type StreamHead } from "@chronicle/sync/protocol";
import { limitsFrom, type NodeLimits, type SyncNodeEnv } from "../env.ts";
import { errorResponse } from "../http/errors.ts";
import { errorFrameText, send } from "../stream-log/frames.ts";
import { SubjectBuckets } from "../stream-log/rate-limit.ts";
import { alarmTime, closeExpired, expire } from "../stream-log/socket-expiry.ts";
import { attempt, limitsOfHeader, type Outcome } from "../stream-log/worker-contract.ts";
import { DirectoryTable } from "./directory-table.ts";

/** Headers the Worker sets on a watch upgrade it forwards after auth (never the client's). */
export const watchHeaders = {
  sub: "X-Chronicle-Sub",
  exp: "X-Chronicle-Exp",
  space: "X-Chronicle-Space",
  prefix: "X-Chronicle-Prefix",
  /** `"all"` or a JSON array of grant patterns under the prefix (`grantsUnder`). */
  grants: "X-Chronicle-Grants",
  protocol: "X-Chronicle-Protocol",
  limits: "X-Chronicle-Limits",
} as const;

/** A watch socket's state, in its attachment (at most 2,048 bytes serialized). */
interface WatchState {
  sub: string;
  prefix: string;
  grants: "all" | string[];
  /** Seconds since the epoch: the socket is closed then (invariant 4). */
  exp: number;
  maxFrameBytes: number;
}

/** A listing query, parsed by the Worker. */
export interface ListQuery {
  prefix: string;
  after?: string;
  limit: number;
}

/** At most this long between two `heads` frames to one socket (invariant 3). */
const coalesceMs = 100;
/** Rows a listing looks at for one page (invariant 5). */
const scanCap = 5_000;
/** The longest serialized `{ stream, head, epoch }`: 128-char id, 64-char epoch, 16 digits. */
const entryBytes = 256;
/** The attachment limit of a hibernatable WebSocket. */
const attachmentBytes = 2_048;

/**
 * The Durable Object holding the directory of one space: every stream of the space with its
 * head, notified by the stream logs, listed by `GET /v1/streams` and watched by
 * `GET /v1/watch`. Export it from the app's entry beside `StreamLog` and bind it as
 * `STREAM_DIRECTORY` with a `new_sqlite_classes` migration.
 *
 * @example
 * import { createSyncNode, StreamDirectory, StreamLog } from "@chronicle/node";
 * export { StreamDirectory, StreamLog };
 * export default createSyncNode();
 */
export class StreamDirectory extends DurableObject<SyncNodeEnv> {
  readonly #table: DirectoryTable;
  readonly #envLimits: NodeLimits;
  readonly #buckets = new SubjectBuckets();
  /** Streams that moved since the last flush (invariant 3). */
  readonly #changed = new Map<string, StreamHead>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #lastFlush = 0;
  #space: string | undefined;

  /** @internal The Workers runtime constructs the object; an app never does. */
  constructor(ctx: DurableObjectState, env: SyncNodeEnv) {
    super(ctx, env);
    this.#table = new DirectoryTable(ctx.storage);
    this.#envLimits = limitsFrom(env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT.ping, HEARTBEAT.pong));
  }

  /**
   * A stream log's notice: `stream` is at `head` (invariant 1). Idempotent; returns whether it
   * changed the directory.
   *
   * @internal RPC for the StreamLog objects: an app never calls it.
   */
  notice(space: string, stream: string, head: number, epoch: string): Outcome<boolean> {
    return attempt(() => {
      this.#bind(space);
      if (!stream.startsWith(`${space}:`)) {
        throw new ChronicleError("internal", `${stream} is not in space ${space}`);
      }
      const changed = this.#table.notice(stream, head, epoch);
      if (changed) this.#queue({ stream, head, epoch });
      return changed;
    });
  }

  /**
   * `GET /v1/streams`: one page of the streams under the prefix that `grants` may read.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  list(
    space: string,
    query: ListQuery,
    grants: "all" | string[],
    sub: string,
    limits: NodeLimits = this.#envLimits,
  ): Outcome<{ streams: StreamHead[]; next?: string }> {
    return attempt(() => {
      this.#bind(space);
      this.#take(sub, limits);
      const { prefix, limit } = query;
      // One more than the page: whether a next page exists is known without an empty last page.
      const found: StreamHead[] = [];
      let cursor = query.after;
      let scanned = 0;
      for (;;) {
        const want = grants === "all" ? limit + 1 - found.length : 500;
        const rows = this.#table.page(prefix, cursor, want);
        for (const row of rows) {
          cursor = row.stream;
          scanned += 1;
          if (readableUnder(grants, row.stream)) found.push(row);
          if (found.length > limit) {
            const streams = found.slice(0, limit);
            return { streams, next: streams.at(-1)!.stream };
          }
        }
        if (rows.length < want) return { streams: found };
        if (scanned >= scanCap) return { streams: found, next: cursor! };
      }
    });
  }

  /**
   * Accepts a watch socket the Worker has authenticated and authorized, sends it the current
   * heads, and makes sure the expiry alarm will close it at `exp`.
   *
   * @internal Called by the Workers runtime for the upgrade createSyncNode forwards.
   */
  override async fetch(request: Request): Promise<Response> {
    const header = (name: string) => request.headers.get(name);
    const sub = header(watchHeaders.sub);
    const space = header(watchHeaders.space);
    const prefix = header(watchHeaders.prefix);
    const grantsText = header(watchHeaders.grants);
    if (header("Upgrade")?.toLowerCase() !== "websocket" || !sub || !space || !prefix) {
      return new Response("expected an authorized WebSocket upgrade from the Worker", {
        status: 400,
      });
    }
    try {
      const limits = limitsOfHeader(header(watchHeaders.limits)) ?? this.#envLimits;
      this.#bind(space);
      this.#take(sub, limits);
      const grants = grantsText === "all" ? "all" : (JSON.parse(grantsText ?? "[]") as string[]);
      const state: WatchState = {
        sub,
        prefix,
        grants,
        exp: Number(header(watchHeaders.exp) ?? "0"),
        maxFrameBytes: limits.maxFrameBytes,
      };
      if (JSON.stringify(state).length > attachmentBytes - 64) {
        throw new ChronicleError(
          "too-large",
          "the token grants too many single streams under this prefix to watch it; grant a wildcard or watch a narrower prefix",
          { details: { limit: attachmentBytes } },
        );
      }
      await this.#alarmBy(state.exp);
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment(state);
      this.#sendCurrent(server, state);
      const headers = new Headers();
      const protocol = header(watchHeaders.protocol);
      if (protocol) headers.set("Sec-WebSocket-Protocol", protocol);
      return new Response(null, { status: 101, webSocket: client, headers });
    } catch (error) {
      return errorResponse(error);
    }
  }

  /**
   * Closes the watch sockets whose token has expired, then waits for the next expiry.
   *
   * @internal Called by the Workers runtime.
   */
  override async alarm(): Promise<void> {
    const next = closeExpired(this.ctx.getWebSockets(), Date.now());
    if (next !== undefined) await this.ctx.storage.setAlarm(alarmTime(next));
  }

  /**
   * A watch socket takes no frames but the heartbeat (answered by the runtime).
   *
   * @internal Called by the Workers runtime.
   */
  override webSocketMessage(ws: WebSocket): void {
    const state = ws.deserializeAttachment() as WatchState | null;
    if (!state || Date.now() / 1000 >= state.exp) {
      expire(ws);
      return;
    }
    send(
      ws,
      errorFrameText(new ChronicleError("protocol", "a watch socket takes no frames but 'ping'")),
    );
  }

  /**
   * Completes the close handshake the client started.
   *
   * @internal Called by the Workers runtime.
   */
  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // Already closed, or a code that may not be sent back (1005/1006).
    }
  }

  /**
   * Nothing to do: the socket's state goes with it.
   *
   * @internal Called by the Workers runtime.
   */
  override webSocketError(): void {}

  // internals --------------------------------------------------------------------------------

  /** Invariant 3: the first change after a quiet spell leaves at once, later ones are batched. */
  #queue(head: StreamHead): void {
    this.#changed.set(head.stream, head);
    if (this.#flushTimer !== undefined) return;
    const wait = this.#lastFlush + coalesceMs - Date.now();
    if (wait <= 0) {
      this.#flush();
      return;
    }
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, wait);
  }

  #flush(): void {
    this.#lastFlush = Date.now();
    const changed = [...this.#changed.values()];
    this.#changed.clear();
    if (changed.length === 0) return;
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const state = ws.deserializeAttachment() as WatchState | null;
      if (!state) continue;
      if (now / 1000 >= state.exp) {
        expire(ws);
        continue;
      }
      const visible = changed.filter(
        (entry) =>
          entry.stream.startsWith(state.prefix) && readableUnder(state.grants, entry.stream),
      );
      for (const frame of headsFrames(visible, state.maxFrameBytes, false)) send(ws, frame);
    }
  }

  /** Invariant 3: every readable stream under the socket's prefix, in frames, the last without `more`. */
  #sendCurrent(ws: WebSocket, state: WatchState): void {
    const visible: StreamHead[] = [];
    let cursor: string | undefined;
    for (;;) {
      const rows = this.#table.page(state.prefix, cursor, 1_000);
      for (const row of rows) {
        if (readableUnder(state.grants, row.stream)) visible.push(row);
      }
      if (rows.length < 1_000) break;
      cursor = rows.at(-1)!.stream;
    }
    for (const frame of headsFrames(visible, state.maxFrameBytes, true)) send(ws, frame);
  }

  #take(sub: string, limits: NodeLimits): void {
    this.#buckets.take(sub, Date.now(), limits.ratePerSecond, limits.rateBurst);
  }

  async #alarmBy(exp: number): Promise<void> {
    const at = alarmTime(exp);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** Records which space this object holds and refuses another (a routing bug). */
  #bind(space: string): void {
    if (this.#space === space) return;
    const bound = this.#table.meta("space");
    if (bound === undefined) this.#table.setMeta("space", space);
    else if (bound !== space) {
      throw new ChronicleError("internal", `this directory holds ${bound}, not ${space}`);
    }
    this.#space = space;
  }
}

/**
 * `heads` frames for `entries`, each under the frame limit. On connecting (`initial`) there is
 * always at least one frame, and all but the last say `more: true`.
 */
function headsFrames(entries: StreamHead[], maxFrameBytes: number, initial: boolean): string[] {
  if (entries.length === 0) return initial ? [JSON.stringify({ t: "heads", streams: [] })] : [];
  const perFrame = Math.max(1, Math.floor((maxFrameBytes - 64) / entryBytes));
  const frames: string[] = [];
  for (let start = 0; start < entries.length; start += perFrame) {
    const streams = entries.slice(start, start + perFrame);
    const more = start + perFrame < entries.length;
    frames.push(
      JSON.stringify(initial && more ? { t: "heads", streams, more } : { t: "heads", streams }),
    );
  }
  return frames;
}

// The StreamLog Durable Object: the authority for one stream (one object per stream, named by
// the stream id). Invariants (docs/architecture.md, "Rules the node guarantees"):
// 1. Gapless order: positions are 1..head; `events.position` is the primary key and only
//    LogTable.commit inserts, at head+1.. .
// 2. Atomic batches: a push is one transactionSync; on any failure nothing is stored.
// 3. Idempotent by id: `events.id` is UNIQUE; stored ids are answered with their positions and
//    only new ids are written (push-plan.ts); a stored id with other content is `id-conflict`.
//    Idempotency is decided before strictness.
// 4. Durable before acknowledged: every write is synchronous and no `await` separates it from
//    the ack; the output gate holds acks, broadcasts and RPC results until the write is durable.
// 5. Same order for everyone: a push and its broadcast run without yielding, so live frames
//    leave in position order; every socket gets events after its cursor exactly once.
// 6. Epoch: a random id created with the schema, never changed.
// 7. Bounded: frames and HTTP bodies are parsed here, with the protocol module's limits, before
//    they reach the log; every request of a subject (socket frames, HTTP pushes and pulls,
//    upgrades) takes a token from that subject's bucket first (rate-limit.ts: no timers keep
//    the object awake). Frames sent are paged so that each, envelope included, fits the frame
//    limit. The limits are the Worker's (createSyncNode options, else env vars): they come with
//    each RPC and each upgrade (kept in the socket's attachment); only callers that bring none
//    (the store contract's RPC) get the object's own, read from env vars.
// 8. A socket does not outlive its token: nothing is delivered to or read from a socket past its
//    `exp`, and an alarm at the earliest `exp` of the open sockets closes them (error
//    `unauthorized`, then close code 4401) even when they are silent.
// 9. The space's StreamDirectory hears the head after every commit, at least once, never before
//    the commit and never holding up an ack (directory-notifier.ts).
// 10. The ProcessHosts hear the events of the types they listen to, at least once, after the
//    commit, never holding up an ack (processes/process-notifier.ts).
// The Worker authenticates and authorizes before calling any method here; the object trusts the
// caller identity it is given and nothing else of the client's.

import { DurableObject } from "cloudflare:workers";
import {
  type AppendResult,
  ChronicleError,
  type ConfirmedEvent,
  type ExpectedVersion,
  type NewEvent,
  type ReadStreamOptions,
} from "@chronicle/core";
import { planAppend, validateBatch } from "@chronicle/core/store";
import {
  type ClientFrame,
  checkEventsStream,
  encodeFrame,
  HEARTBEAT,
  parseClientFrame,
  parsePullQuery,
  parsePushBody,
  type WireEvent,
} from "@chronicle/sync/protocol";
import { limitsFrom, type NodeLimits, type SyncNodeEnv } from "../env.ts";
import { errorResponse, toPublicError } from "../http/errors.ts";
import { ProcessNotifier } from "../processes/process-notifier.ts";
import { snapshotsBodyText } from "../snapshots/serve-snapshots.ts";
import { DirectoryNotifier } from "./directory-notifier.ts";
import {
  checkAckFits,
  errorFrameText,
  eventsBudget,
  eventsFrameText,
  guessRequestId,
  pullBodyText,
  send,
} from "./frames.ts";
import { LogTable } from "./log-table.ts";
import { planPush, pushResults } from "./push-plan.ts";
import { SubjectBuckets } from "./rate-limit.ts";
import { migrate } from "./schema.ts";
import { alarmTime, closeExpired, expire } from "./socket-expiry.ts";
import { isExpired, readState, type SocketState } from "./socket-state.ts";
import {
  attempt,
  callerHeaders,
  limitsOfHeader,
  type Outcome,
  type PushOutcome,
} from "./worker-contract.ts";

/**
 * The Durable Object holding one stream's log (SQLite). Export it from the app's entry and bind
 * it as `STREAM_LOG` with a `new_sqlite_classes` migration; it needs no configuration of its own.
 *
 * @example
 * import { createSyncNode, StreamLog } from "@chronicle/node";
 * export { StreamLog };
 * export default createSyncNode();
 */
export class StreamLog extends DurableObject<SyncNodeEnv> {
  readonly #log: LogTable;
  /** From env vars: for callers that bring no limits of their own. */
  readonly #envLimits: NodeLimits;
  /** Rate limits per subject (memory only: lost on hibernation, which only refills them). */
  readonly #buckets = new SubjectBuckets();
  /** Rule 9: tells the space's directory the head. */
  readonly #directory: DirectoryNotifier;
  /** Rule 10: feeds the process hosts. */
  readonly #processes: ProcessNotifier;
  #stream: string | undefined;

  /** @internal The Workers runtime constructs the object; an app never does. */
  constructor(ctx: DurableObjectState, env: SyncNodeEnv) {
    super(ctx, env);
    migrate(ctx.storage);
    this.#log = new LogTable(ctx.storage);
    this.#envLimits = limitsFrom(env);
    this.#directory = new DirectoryNotifier(env, this.#log, (atMs) => this.#alarmAtMs(atMs));
    this.#processes = new ProcessNotifier(
      env,
      this.#log,
      (atMs) => this.#alarmBySync(atMs),
      (atMs) => this.#alarmAtMs(atMs),
    );
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT.ping, HEARTBEAT.pong));
  }

  // RPC for the Worker's HTTP routes ---------------------------------------------------------

  /**
   * The stream's epoch and head.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  info(stream: string): Outcome<{ epoch: string; head: number }> {
    return attempt(() => {
      this.#bind(stream);
      return { epoch: this.#log.epoch, head: this.#log.head };
    });
  }

  /**
   * `POST /events`: the body text as the client sent it (already within the frame limit), the
   * authenticated subject (rate limit, `meta.actor`) and the Worker's limits.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  pushBody(
    stream: string,
    text: string,
    sub: string,
    limits: NodeLimits = this.#envLimits,
  ): Outcome<PushOutcome & { epoch: string }> {
    return attempt(() => {
      this.#bind(stream);
      this.#take(sub, limits);
      const body = parsePushBody(text, limits);
      checkEventsStream(stream, body.events);
      return { ...this.#push(body.events, body.expected, sub, limits), epoch: this.#log.epoch };
    });
  }

  /**
   * `GET /events`: one page as the response body text `{ events, head, more }`.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  pullPage(
    stream: string,
    query: Record<string, string | undefined>,
    sub: string,
    limits: NodeLimits = this.#envLimits,
  ): Outcome<{ body: string; epoch: string }> {
    return attempt(() => {
      this.#bind(stream);
      this.#take(sub, limits);
      const { after, limit } = parsePullQuery(query, limits);
      const head = this.#log.head;
      const page = this.#log.readPage(after, limit, eventsBudget(limits.maxFrameBytes, head));
      const last = page.at(-1)?.position ?? Math.max(after, head);
      return { body: pullBodyText(page, head, last < head), epoch: this.#log.epoch };
    });
  }

  /**
   * `GET /snapshots`: the latest states of the app's deciders and projections the query names
   * (worker/src/snapshots/), computed lazily and kept in this object's SQLite.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  snapshots(
    stream: string,
    query: Record<string, string[]>,
    sub: string,
    limits: NodeLimits = this.#envLimits,
  ): Outcome<{ body: string; epoch: string }> {
    return attempt(() => {
      this.#bind(stream);
      this.#take(sub, limits);
      const body = snapshotsBodyText(this.ctx.storage, this.#log, query, limits);
      return { body, epoch: this.#log.epoch };
    });
  }

  // RPC with EventStore semantics (the store contract; not reachable from any route) ----------

  /**
   * EventStore `append`: core's planAppend decides (a partly stored batch is `concurrency`),
   * then the same LogTable.commit as a push writes. `now` lets the contract suite drive the clock.
   *
   * @internal RPC for the store contract suite (no route reaches it): an app never calls it.
   */
  append(
    stream: string,
    events: NewEvent[],
    expectedVersion: ExpectedVersion,
    now?: number,
  ): Outcome<AppendResult> {
    return attempt(() => {
      validateBatch(stream, events);
      this.#bind(stream);
      const before = this.#log.head;
      const plan = planAppend(stream, events, expectedVersion, before, (id) =>
        this.#log.lookup(id),
      );
      if (plan.kind === "duplicate") return { results: plan.results, head: before };
      const results = this.#log.commit(events, now ?? Date.now());
      this.#broadcast(before, undefined, this.#envLimits);
      this.#directory.notify(stream);
      this.#processes.notify();
      return { results, head: this.#log.head };
    });
  }

  /**
   * EventStore `readStream` over the log.
   *
   * @internal RPC for the store contract suite (no route reaches it): an app never calls it.
   */
  readStream(stream: string, options: ReadStreamOptions = {}): Outcome<ConfirmedEvent[]> {
    return attempt(() => {
      this.#bind(stream);
      return this.#log.readStream(options);
    });
  }

  // WebSockets (hibernation API) ------------------------------------------------------------

  /**
   * Accepts an upgrade the Worker has already authenticated and authorized (an upgrade takes a
   * token of the subject's rate limit), and makes sure the expiry alarm will close it at `exp`.
   *
   * @internal Called by the Workers runtime for the upgrade createSyncNode forwards.
   */
  override async fetch(request: Request): Promise<Response> {
    const sub = request.headers.get(callerHeaders.sub);
    const access = request.headers.get(callerHeaders.access);
    const stream = request.headers.get(callerHeaders.stream);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket" || !sub || !stream) {
      return new Response("expected an authorized WebSocket upgrade from the Worker", {
        status: 400,
      });
    }
    const exp = Number(request.headers.get(callerHeaders.exp) ?? "0");
    try {
      const limits = limitsOfHeader(request.headers.get(callerHeaders.limits));
      this.#bind(stream);
      this.#take(sub, limits ?? this.#envLimits);
      await this.#alarmBy(exp);
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server);
      const state: SocketState = {
        sub,
        access: access === "write" ? "write" : "read",
        stream,
        exp,
        subscribed: false,
      };
      if (limits !== undefined) state.limits = limits;
      server.serializeAttachment(state);
      const headers = new Headers();
      const protocol = request.headers.get(callerHeaders.protocol);
      if (protocol) headers.set("Sec-WebSocket-Protocol", protocol);
      return new Response(null, { status: 101, webSocket: client, headers });
    } catch (error) {
      return errorResponse(error);
    }
  }

  /**
   * Closes the sockets whose token has expired, then waits for the next expiry.
   *
   * @internal Called by the Workers runtime.
   */
  override async alarm(): Promise<void> {
    const next = closeExpired(this.ctx.getWebSockets(), Date.now());
    if (next !== undefined) await this.ctx.storage.setAlarm(alarmTime(next));
    // Rule 9: a notice that failed is retried here (the notifier re-arms the alarm if it fails).
    const stream = this.#stream ?? this.#log.meta("stream");
    if (stream !== undefined) this.#directory.notify(stream);
    if (stream !== undefined) this.#processes.notify();
  }

  /**
   * Handles one client frame (hello, pull, push) on a hibernatable socket.
   *
   * @internal Called by the Workers runtime.
   */
  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    // A frame refused before it is parsed (rate-limited, too large) still gets its request id
    // back when one can be read at its start, so the client can fail that request.
    let req = guessRequestId(message);
    try {
      const state = readState(ws);
      const limits = state.limits ?? this.#envLimits;
      if (isExpired(state, Date.now())) {
        // The token was checked at upgrade; a socket does not outlive it. Reconnect with a new one.
        expire(ws, req);
        return;
      }
      this.#take(state.sub, limits);
      let frame: ClientFrame;
      try {
        frame = parseClientFrame(message, limits);
      } catch (error) {
        const details = (error as ChronicleError).details;
        if (typeof details?.req === "string") req = details.req;
        throw error;
      }
      if (frame.t !== "hello") req = frame.req;
      this.#onFrame(ws, state, frame, limits);
    } catch (error) {
      send(ws, errorFrameText(toPublicError(error), req));
    }
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
  override webSocketError(): void {
    // Nothing to clean up: per-socket state lives in the attachment and goes with the socket.
  }

  // internals --------------------------------------------------------------------------------

  #onFrame(ws: WebSocket, state: SocketState, frame: ClientFrame, limits: NodeLimits): void {
    switch (frame.t) {
      case "hello": {
        const epoch = this.#log.epoch;
        send(ws, encodeFrame({ t: "welcome", epoch, head: this.#log.head }));
        // A cursor into another log (another epoch) means nothing here: send this log whole.
        const stale = frame.epoch !== undefined && frame.epoch !== epoch;
        this.#sendAfter(ws, stale ? 0 : frame.after, limits);
        if (!state.subscribed) {
          state.subscribed = true;
          ws.serializeAttachment(state);
        }
        return;
      }
      case "pull": {
        const limit = Math.min(frame.limit ?? limits.defaultPullLimit, limits.maxPullLimit);
        const head = this.#log.head;
        const budget = eventsBudget(limits.maxFrameBytes, head, frame.req);
        const page = this.#log.readPage(frame.after, limit, budget);
        const last = page.at(-1)?.position ?? Math.max(frame.after, head);
        send(ws, eventsFrameText(page, head, { req: frame.req, more: last < head }));
        return;
      }
      case "push": {
        if (state.access !== "write") {
          throw new ChronicleError("forbidden", `${state.sub} may not write ${state.stream}`);
        }
        checkEventsStream(state.stream, frame.events);
        const outcome = this.#push(frame.events, frame.expected, state.sub, limits, ws, frame.req);
        send(
          ws,
          outcome.kind === "ack"
            ? encodeFrame({ t: "ack", req: frame.req, results: outcome.results })
            : encodeFrame({ t: "conflict", req: frame.req, head: outcome.head }),
        );
        return;
      }
    }
  }

  /** Plans, commits and broadcasts a push; the pusher (a socket) is left out of the broadcast. */
  #push(
    events: readonly WireEvent[],
    expected: number | undefined,
    actor: string,
    limits: NodeLimits,
    pusher?: WebSocket,
    req?: string,
  ): PushOutcome {
    const before = this.#log.head;
    const plan = planPush(events, expected, before, (id) => this.#log.stored(id));
    if (plan.kind === "conflict") return plan;
    // The ack echoes the node-stamped actor, so the pusher's copy equals the log.
    const actors = plan.stored.map((entry) =>
      entry ? (this.#log.actorOf(entry.id) ?? actor) : actor,
    );
    checkAckFits(
      events.map((event, index) => ({ id: event.id, actor: actors[index]! })),
      req,
      limits.maxFrameBytes,
    );
    const written = this.#log.commit(plan.fresh, Date.now(), actor);
    this.#broadcast(before, pusher, limits);
    const stream = this.#stream ?? this.#log.meta("stream");
    if (written.length > 0 && stream !== undefined) this.#directory.notify(stream);
    if (written.length > 0) this.#processes.notify();
    const results = pushResults(plan, written).map((result, index) => ({
      ...result,
      actor: actors[index]!,
    }));
    return { kind: "ack", results, head: this.#log.head };
  }

  /** Takes a token from `sub`'s bucket: `rate-limited` (with retryAfter) when it is empty. */
  #take(sub: string, limits: NodeLimits): void {
    this.#buckets.take(sub, Date.now(), limits.ratePerSecond, limits.rateBurst);
  }

  /** Makes sure the expiry alarm fires by `exp` (seconds); far expiries are looked at weekly. */
  async #alarmBy(exp: number): Promise<void> {
    await this.#alarmAtMs(alarmTime(exp));
  }

  /** Makes sure the alarm fires by `at` (ms). */
  async #alarmAtMs(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Sets the alarm to fire by `at` (ms) in the same synchronous turn as a commit (rule 10), never
   * later than the earliest socket expiry it may replace.
   */
  #alarmBySync(at: number): void {
    let earliest = at;
    for (const ws of this.ctx.getWebSockets()) {
      const state = ws.deserializeAttachment() as { exp?: number } | null;
      if (state?.exp !== undefined) earliest = Math.min(earliest, alarmTime(state.exp));
    }
    void this.ctx.storage.setAlarm(earliest);
  }

  /**
   * Sends events after `after` to every subscribed socket but `except`, in position order, in
   * frames paged by `limits` (the caller's: every socket of one deployment has the same). A
   * socket whose token has expired gets nothing more: it is closed instead.
   */
  #broadcast(after: number, except: WebSocket | undefined, limits: NodeLimits): void {
    if (after >= this.#log.head) return;
    const now = Date.now();
    const sockets = this.ctx.getWebSockets().filter((ws) => {
      if (ws === except) return false;
      const state = ws.deserializeAttachment() as SocketState | null;
      if (!state?.subscribed) return false;
      if (!isExpired(state, now)) return true;
      expire(ws);
      return false;
    });
    if (sockets.length === 0) return;
    for (const frame of this.#framesAfter(after, limits)) {
      for (const ws of sockets) {
        send(ws, frame);
      }
    }
  }

  #sendAfter(ws: WebSocket, after: number, limits: NodeLimits): void {
    for (const frame of this.#framesAfter(after, limits)) send(ws, frame);
  }

  *#framesAfter(after: number, limits: NodeLimits): Generator<string> {
    let cursor = after;
    const head = this.#log.head;
    const budget = eventsBudget(limits.maxFrameBytes, head);
    while (cursor < head) {
      const page = this.#log.readPage(cursor, limits.maxPullLimit, budget);
      if (page.length === 0) return;
      cursor = page.at(-1)!.position;
      yield eventsFrameText(page, head, { more: cursor < head });
    }
  }

  /** Records which stream this object holds and refuses to serve another (a routing bug). */
  #bind(stream: string): void {
    if (this.#stream === stream) return;
    const bound = this.#log.meta("stream");
    if (bound === undefined) this.#log.setMeta("stream", stream);
    else if (bound !== stream) {
      throw new ChronicleError("internal", `this log holds ${bound}, not ${stream}`);
    }
    this.#stream = stream;
    // Rules 9, 10: a notice lost when the object last stopped (evicted, crashed) is sent on waking.
    this.#directory.notify(stream);
    this.#processes.notify();
  }
}

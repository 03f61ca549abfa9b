// internal: not exported. One stream's sync with the node. Invariants:
// 1. Everything that touches the local log for this stream runs on one promise chain, in the
//    order frames and events arrived: no two steps interleave.
// 2. Confirmed events are applied only in position order without gaps; a gap (or a node head
//    beyond ours) triggers a pull from our head, never a guess.
// 3. At most one push and one pull are in flight. A push holds a prefix of the pending events
//    in local order, so the node orders this device's events as they were written.
// 4. Pending events survive any failure: a lost ack is answered by re-pushing the same ids
//    (the node is idempotent by id); only an explicit refusal or a rejected strict command
//    removes them, and both are reported.
// 5. A strict command is pushed only from the front of the outbox, with `expected` equal to
//    the confirmed head, after checking locally that no other device's event arrived since it
//    was decided; otherwise it is decided again first. A `conflict` means "pull, then check".
// 6. After a welcome with another epoch the confirmed cache is dropped and rebuilt by pulling;
//    pending events stay and are pushed again.
// 7. Once the engine is set offline nothing more is sent, even by a step queued before the
//    disconnect that runs after it was asked for.
// 8. Tokens expire. The first `unauthorized` after a welcome (an error frame, close 4401, a
//    refused upgrade) reconnects at once, which asks the token function again. A fresh token
//    refused too, or a token function that fails, makes the state `unauthorized` (lastError
//    says why); the session keeps reconnecting on the backoff schedule, asking for a token each
//    time, and a welcome ends it. `forbidden` stops the stream (state `error`) until `start`.
// 9. Refusals name their event when they can: a `validation`/`too-large` error whose
//    `details.path` is `events.<i>...`, or an `id-conflict` with `details.id`, drops that
//    event's command at once; otherwise events are pushed one at a time to find it. An
//    incoming confirmed event whose id is pending here with other content is an id conflict
//    too: the pending copy's command is dropped and reported, never confirmed as ours.
// 10. `rate-limited` waits at least the node's `retryAfter` before the next request or connect.
// 11. A new device starts from the node's snapshots (docs/architecture.md, "Snapshots for new
//    devices"): only a stream whose local log is empty and was never welcomed (no epoch), and
//    only when the node serves every wanted state at its exact version, all at one position;
//    the log then starts after that floor, atomically with the states and the epoch, before
//    the hello (which asks from the floor). Anything else is the full replay.
// 12. Back-fill moves the floor down with pages ending exactly at it, requested one at a time
//    after pushes and catch-up (never ahead of them), and dropped on a disconnect or an epoch
//    reset. An ack placing one of our pending events at or below the floor confirms it there:
//    it leaves the pending list (the start states already include it; the back-fill brings it).
import {
  ChronicleError,
  type ConfirmedEvent,
  type ConfirmedStart,
  isChronicleError,
  type PendingEvent,
  type StreamSyncMeta,
  type SyncStatus,
  toChronicleError,
} from "@chronicle/core";
import { snapshotKey } from "@chronicle/core/store";
import type { ServerFrame } from "../protocol/frames.ts";
import type { EngineContext } from "./engine-context.ts";
import { dropRefused, redecideStrict, sameEvent, takeBatch } from "./outbox.ts";
import { SessionTimers } from "./session-timers.ts";
import { isTokenFailure } from "./token.ts";
import type { Connection } from "./transport.ts";
import { fromWireConfirmed, toWireEvents } from "./wire.ts";

interface InFlight {
  req: string;
  entries: PendingEvent[];
  timer: unknown;
}

export class StreamSession {
  readonly stream: string;
  readonly #engine: EngineContext;
  #chain: Promise<void> = Promise.resolve();
  #connection: Connection | undefined;
  // The connection was opened for a syncOnce (the transport may serve it without a socket).
  #connectionOnce = false;
  #connected = false;
  #wanted = false;
  #once = false;
  #halted = false;
  // Rule 8: refusals of our token since the last welcome, and whether we gave up for now.
  #authRefusals = 0;
  #unauthorized = false;
  #needPull = false;
  #isolate = false;
  readonly #timers: SessionTimers;
  #push: InFlight | undefined;
  #pull: { req: string; timer: unknown } | undefined;
  // The catch-up frames the node sends after its welcome (up to its head then), while they come:
  // a pull would only ask for them again. The timer is restarted by each frame.
  #catchUp: { timer: unknown } | undefined;
  // What the hello said (the confirmed head and sync meta it was sent with): only this session
  // writes either, and it writes neither before the welcome, which reads them from here.
  #hello: { head: number; meta: StreamSyncMeta } | undefined;
  // Rule 12: the floor once it is 0 stays 0 for this session (only a new device's first hello
  // raises it, before any page), so the back-fill and acks stop asking.
  #floorZero = false;
  #requests = 0;
  #status: SyncStatus = { state: "offline", pending: 0, confirmedHead: 0 };
  #onceDone: Array<(error?: unknown) => void> = [];
  // The kick queued on the chain and not started yet (later kicks share it).
  #kicked: Promise<void> | undefined;
  // Rule 12: the back-fill page in flight (events up to `upTo`, the floor), what arrived of it.
  #backfill: { req: string; timer: unknown; upTo: number } | undefined;
  #backfillPage: ConfirmedEvent[] = [];
  #backfillWanted = false;
  #backfillDone: Array<() => void> = [];

  constructor(engine: EngineContext, stream: string) {
    this.#engine = engine;
    this.stream = stream;
    this.#timers = new SessionTimers(engine);
  }

  get status(): SyncStatus {
    return this.#status;
  }

  /** Resolves once the chain of queued steps is empty. */
  async idle(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.#chain;
      await chain;
    } while (chain !== this.#chain);
  }

  // Connection changes go through the chain like everything else, so no step is interleaved
  // with a disconnect at one of its awaits (a stale step could otherwise arm timers or send on
  // a connection that is gone).

  /**
   * Keeps a live connection until `stop`. On a stream that is live already, pushes what is
   * pending now: a host starts a stream again to announce a write (a sync starter does).
   */
  start(): void {
    void this.#enqueue(() => {
      this.#wanted = true;
      this.#once = false;
      this.#halted = false;
      // A syncOnce's connection may not be a live one: open one that is.
      if (this.#connection && this.#connectionOnce) this.#disconnect();
      if (!this.#connection && !this.#timers.reconnectScheduled) this.#connect();
      else if (this.#connection) return this.#pump();
      return this.#refreshStatus();
    });
  }

  /** Connects, pushes everything pending, catches up, then disconnects. */
  syncOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      void this.#enqueue(() => {
        this.#onceDone.push((error) => (error ? reject(error) : resolve()));
        if (this.#wanted && !this.#once) return this.#pump(); // live already: resolves when synced
        this.#wanted = true;
        this.#once = true;
        this.#halted = false;
        if (!this.#connection && !this.#timers.reconnectScheduled) this.#connect();
        else return this.#pump();
      });
    });
  }

  stop(): void {
    void this.#enqueue(() => {
      this.#wanted = false;
      this.#disconnect();
      this.#timers.cancelReconnect();
      this.#authRefusals = 0;
      this.#unauthorized = false;
      return this.#refreshStatus();
    });
  }

  /** Network reachability changed (or the app's offline switch). */
  networkChanged(online: boolean): void {
    void this.#enqueue(() => {
      if (!online) {
        this.#disconnect();
        this.#timers.cancelReconnect();
        return this.#refreshStatus();
      }
      if (this.#wanted && !this.#connection) {
        this.#timers.cancelReconnect();
        this.#timers.resetBackoff();
        this.#connect();
      }
    });
  }

  /** Back-fills the history below the floor (rule 12); resolves once the floor is 0. */
  backfill(): Promise<void> {
    return new Promise((resolve) => {
      void this.#enqueue(async () => {
        if ((await this.#engine.local.confirmedFloor(this.stream)) === 0) return resolve();
        this.#backfillDone.push(resolve);
        this.#backfillWanted = true;
        if (this.#wanted) return this.#pump();
        // Not synced live: connect as syncOnce does, until the history is complete.
        this.#wanted = true;
        this.#once = true;
        this.#halted = false;
        if (!this.#connection && !this.#timers.reconnectScheduled) this.#connect();
      });
    });
  }

  /**
   * New local pending events: push them when connected. Kicks that arrive while one is queued
   * and not started share it: its pump reads the pending list when it runs, after their writes.
   */
  kick(): Promise<void> {
    this.#kicked ??= this.#enqueue(() => {
      this.#kicked = undefined;
      return this.#pump();
    });
    return this.#kicked;
  }

  #enqueue(step: () => Promise<void> | void): Promise<void> {
    this.#chain = this.#chain.then(step).catch((error: unknown) => this.#fail(error));
    return this.#chain;
  }

  #connect(): void {
    if (!this.#wanted || this.#halted || !this.#engine.online) {
      this.#enqueue(() => this.#refreshStatus());
      return;
    }
    this.#timers.reconnectStarted();
    // While unauthorized, retries keep that state until a token is accepted (rule 8); an attempt
    // after being offline shows as connecting until the node answers.
    if (!this.#unauthorized || this.#status.state !== "unauthorized") this.#setState("connecting");
    let connection: Connection | undefined;
    const isCurrent = () => connection !== undefined && connection === this.#connection;
    // Steps run later on the chain: check again when they run, so nothing from a connection
    // that has since been replaced touches the session.
    const once = this.#once;
    connection = this.#engine.transport.connect(
      this.stream,
      {
        onOpen: () => {
          if (isCurrent()) void this.#enqueue(() => (isCurrent() ? this.#onOpen() : undefined));
        },
        onFrame: (frame) =>
          isCurrent()
            ? this.#enqueue(() => (isCurrent() ? this.#onFrame(frame) : undefined))
            : undefined,
        onClose: (error) => {
          if (connection === this.#connection) void this.#enqueue(() => this.#onClose(error));
        },
      },
      { once },
    );
    this.#connection = connection;
    this.#connectionOnce = once;
  }

  #disconnect(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#connected = false;
    this.#clearRequests();
    connection?.close();
  }

  #clearRequests(): void {
    if (this.#push) this.#timers.answered(this.#push.timer);
    if (this.#pull) this.#timers.answered(this.#pull.timer);
    if (this.#catchUp) this.#timers.answered(this.#catchUp.timer);
    this.#catchUp = undefined;
    this.#hello = undefined;
    this.#timers.connectionGone();
    this.#push = undefined;
    this.#pull = undefined;
    if (this.#backfill) this.#timers.answered(this.#backfill.timer);
    this.#backfill = undefined;
    this.#backfillPage = [];
  }

  async #onOpen(): Promise<void> {
    const connection = this.#connection;
    const local = this.#engine.local;
    let [head, meta] = await Promise.all([
      local.confirmedHead(this.stream),
      local.readMeta(this.stream),
    ]);
    // Rule 11: a new device starts from the node's snapshots when it has them all.
    if (head === 0 && meta.epoch === undefined && this.#engine.bootstrap.length > 0) {
      const start = await this.#fetchStart();
      if (!connection || connection !== this.#connection) return;
      if (start && (await local.confirmedHead(this.stream)) === 0) {
        await local.startConfirmedAt(this.stream, start);
        this.#engine.confirmedReset(this.stream);
        this.#engine.emitChange(this.stream);
        [head, meta] = [start.floor, { ...meta, epoch: start.epoch }];
      }
    }
    // The network may have gone away while we read: a hello (and its timer) would be stale.
    if (!connection || connection !== this.#connection) return;
    this.#hello = { head, meta };
    this.#send({
      t: "hello",
      protocol: 1,
      after: head,
      ...(meta.epoch ? { epoch: meta.epoch } : {}),
    });
    this.#timers.helloSent(() => this.#onSilence());
  }

  // The node's states of every wanted fold at one position, or undefined: the full replay then
  // (the node has none yet or not all, another version, the request failed or timed out).
  async #fetchStart(): Promise<ConfirmedStart | undefined> {
    const fetch = this.#engine.transport.snapshots;
    if (!fetch) return undefined;
    const wants = this.#engine.bootstrap;
    let timer: unknown;
    try {
      const answer = await Promise.race([
        fetch.call(this.#engine.transport, this.stream, wants),
        new Promise<undefined>((resolve) => {
          timer = this.#engine.scheduler.setTimeout(
            () => resolve(undefined),
            this.#engine.requestTimeoutMs,
          );
        }),
      ]);
      if (!answer || answer.position === 0) return undefined;
      const snapshots = wants.map((want) =>
        answer.snapshots.find(
          (s) => s.kind === want.kind && s.name === want.name && s.version === want.version,
        ),
      );
      if (snapshots.some((s) => s === undefined)) return undefined;
      return {
        floor: answer.position,
        epoch: answer.epoch,
        snapshots: snapshots.map((s) => ({
          key: snapshotKey(s!.kind, s!.name, this.stream),
          position: answer.position,
          version: s!.version,
          state: s!.state,
          takenAt: 0,
        })),
      };
    } catch {
      return undefined;
    } finally {
      this.#engine.scheduler.clearTimeout(timer);
    }
  }

  async #onClose(error: unknown): Promise<void> {
    this.#connection = undefined;
    this.#connected = false;
    this.#clearRequests();
    if (error !== undefined && isChronicleError(error))
      this.#status = { ...this.#status, lastError: error.toJSON() };
    if (isChronicleError(error, "unauthorized")) return this.#onUnauthorized(error);
    if (isChronicleError(error, "forbidden")) return this.#halt(error);
    await this.#refreshStatus();
    this.#scheduleReconnect(isChronicleError(error) ? retryAfterMs(error) : 0);
  }

  #scheduleReconnect(atLeastMs = 0): void {
    if (!this.#wanted || this.#halted || !this.#engine.online) return;
    this.#timers.scheduleReconnect(() => void this.#enqueue(() => this.#connect()), atLeastMs);
  }

  // Rule 8: the token was refused (or could not be had).
  async #onUnauthorized(error: ChronicleError): Promise<void> {
    this.#disconnect();
    this.#status = { ...this.#status, lastError: error.toJSON() };
    this.#authRefusals++;
    if (this.#authRefusals === 1 && !isTokenFailure(error) && this.#wanted) {
      // Most likely it expired: a new connection asks the token function for a fresh one.
      this.#timers.cancelReconnect();
      this.#connect();
      return;
    }
    this.#unauthorized = true;
    await this.#refreshStatus();
    this.#settleOnce(error);
    this.#scheduleReconnect();
  }

  async #onFrame(frame: ServerFrame): Promise<void> {
    switch (frame.t) {
      case "welcome":
        return this.#onWelcome(frame.epoch, frame.head);
      case "events": {
        if (frame.req !== undefined && frame.req === this.#backfill?.req) {
          return this.#onBackfillPage(fromWireConfirmed(frame.events));
        }
        if (frame.req !== undefined) {
          if (frame.req !== this.#pull?.req) return; // a late or duplicated page
          this.#timers.answered(this.#pull.timer);
          this.#pull = undefined;
          if (frame.more) this.#needPull = true;
        } else if (this.#catchUp) {
          // A frame of the catch-up: more follow unless it is the last (a gap still pulls).
          this.#timers.answered(this.#catchUp.timer);
          this.#catchUp = frame.more
            ? { timer: this.#timers.requestTimeout(() => this.#onSilence()) }
            : undefined;
          if (frame.more) {
            await this.#applyIncoming(fromWireConfirmed(frame.events), 0);
            return this.#refreshStatus();
          }
        }
        await this.#applyIncoming(fromWireConfirmed(frame.events), frame.head);
        return this.#pump();
      }
      case "ack": {
        const push = this.#push;
        if (!push || push.req !== frame.req || frame.results.length !== push.entries.length) return;
        this.#timers.answered(push.timer);
        this.#push = undefined;
        const confirmed = push.entries.map((entry, index) => {
          const result = frame.results[index]!;
          const event: ConfirmedEvent = {
            ...entry.event,
            // Node-owned fields come from the node: the log holds them as stamped there.
            ...(result.actor === undefined
              ? {}
              : { meta: { ...entry.event.meta, actor: result.actor } }),
            position: result.position,
            recordedAt: result.recordedAt,
          };
          return event;
        });
        // Events stored by an earlier attempt may sit anywhere in the log: a gap means pull.
        // They are our own copies, stamped by the node: no id conflict to look for.
        await this.#applyIncoming(confirmed, 0, false);
        // Rule 12: confirmed below the floor, where this device holds no events yet.
        const floor = await this.#floor();
        const below = confirmed.filter((event) => event.position <= floor).map((e) => e.id);
        if (below.length > 0) {
          await this.#engine.local.dropPending(this.stream, below);
          this.#engine.emitChange(this.stream);
        }
        return this.#pump();
      }
      case "conflict": {
        const push = this.#push;
        if (!push || push.req !== frame.req) return;
        this.#timers.answered(push.timer);
        this.#push = undefined;
        this.#needPull = true;
        return this.#pump();
      }
      case "error":
        return this.#onError(frame.code, frame.message, frame.req, frame.details);
    }
  }

  async #onWelcome(epoch: string, nodeHead: number): Promise<void> {
    const local = this.#engine.local;
    const hello = this.#hello;
    this.#hello = undefined;
    const meta = hello?.meta ?? (await local.readMeta(this.stream));
    const head = hello?.head ?? (await local.confirmedHead(this.stream));
    if (meta.epoch !== undefined && meta.epoch !== epoch) {
      this.#backfillPage = [];
      await local.resetConfirmed(this.stream, epoch);
      this.#engine.confirmedReset(this.stream);
      const pending = (await local.readPending(this.stream)).length;
      this.#engine.emitEpochReset({
        stream: this.stream,
        previousEpoch: meta.epoch,
        epoch,
        pending,
      });
      this.#engine.emitChange(this.stream);
      // The hello named another epoch: the node sends its log from the start.
      this.#expectCatchUp(nodeHead > 0);
    } else {
      if (meta.epoch === undefined) await local.writeMeta(this.stream, { ...meta, epoch });
      this.#expectCatchUp(nodeHead > head);
    }
    this.#timers.helloAnswered();
    this.#connected = true;
    this.#timers.resetBackoff();
    this.#authRefusals = 0;
    this.#unauthorized = false;
    this.#status = withoutError(this.#status);
    await this.#pump();
  }

  // The node follows its welcome with the events after the hello's `after`, up to its head then
  // (protocol: `welcome`): the session waits for them rather than pulling the same pages.
  #expectCatchUp(coming: boolean): void {
    if (this.#catchUp) this.#timers.answered(this.#catchUp.timer);
    this.#catchUp = coming
      ? { timer: this.#timers.requestTimeout(() => this.#onSilence()) }
      : undefined;
  }

  async #applyIncoming(
    events: readonly ConfirmedEvent[],
    nodeHead: number,
    checkIds = true,
  ): Promise<void> {
    const local = this.#engine.local;
    let head = await local.confirmedHead(this.stream);
    const sorted = [...events].sort((a, b) => a.position - b.position);
    const fresh: ConfirmedEvent[] = [];
    for (const event of sorted) {
      if (event.position <= head) continue;
      if (event.position !== head + 1) {
        this.#needPull = true;
        break;
      }
      fresh.push(event);
      head++;
    }
    if (fresh.length > 0) {
      if (checkIds) await this.#dropConflicting(fresh);
      await local.applyConfirmed(this.stream, fresh);
      this.#engine.emitChange(this.stream);
    }
    if (nodeHead > head) this.#needPull = true;
  }

  // Rule 9: a confirmed event under the id of one of our pending events, with other content, is
  // not ours: applying it would confirm our copy silently as the other. Drop and report ours.
  async #dropConflicting(events: readonly ConfirmedEvent[]): Promise<void> {
    const pending = await this.#engine.local.readPending(this.stream);
    if (pending.length === 0) return;
    const byId = new Map(pending.map((entry) => [entry.event.id, entry]));
    for (const event of events) {
      const mine = byId.get(event.id);
      if (!mine || sameEvent(mine.event, event)) continue;
      const error = new ChronicleError(
        "id-conflict",
        `event ${event.id} is stored at position ${event.position} with other content; an id names one event`,
        { details: { id: event.id, position: event.position } },
      );
      await dropRefused(this.#engine, this.stream, mine, error);
      for (const entry of await this.#engine.local.readPending(this.stream)) {
        byId.set(entry.event.id, entry);
      }
      byId.delete(event.id);
    }
  }

  async #onError(
    code: string,
    message: string,
    req: string | undefined,
    details: Record<string, unknown> | undefined,
  ): Promise<void> {
    const error = ChronicleError.fromJSON({ code, message, ...(details ? { details } : {}) });
    this.#status = { ...this.#status, lastError: error.toJSON() };
    const push = this.#push;
    if (push && req === push.req) {
      this.#timers.answered(push.timer);
      this.#push = undefined;
      if (code === "validation" || code === "too-large" || code === "id-conflict") {
        // Refused for good (rule 9): drop the culprit with the rest of its command, which must
        // not half-apply; when the node does not name it, push one event at a time to find it.
        const culprit = culpritOf(push.entries, error);
        if (culprit) {
          await dropRefused(this.#engine, this.stream, culprit, error);
          this.#isolate = false;
        } else if (push.entries.length > 1) this.#isolate = true;
        else {
          await dropRefused(this.#engine, this.stream, push.entries[0]!, error);
          this.#isolate = false;
        }
        return this.#pump();
      }
      if (code === "rate-limited") return this.#retryLater(retryAfterMs(error));
    } else if (this.#pull && req === this.#pull.req) {
      this.#timers.answered(this.#pull.timer);
      this.#pull = undefined;
      if (code === "rate-limited") {
        this.#needPull = true;
        return this.#retryLater(retryAfterMs(error));
      }
    } else if (code === "rate-limited") {
      // A frame the node could not name (a hello): try the connection again later.
      this.#disconnect();
      await this.#refreshStatus();
      return this.#scheduleReconnect(retryAfterMs(error));
    }
    if (code === "unauthorized") return this.#onUnauthorized(error);
    if (code === "forbidden") return this.#halt(error);
    // Anything else (protocol, internal): start over on a fresh connection.
    this.#disconnect();
    await this.#refreshStatus();
    this.#scheduleReconnect();
  }

  #retryLater(atLeastMs: number): void {
    this.#timers.retryLater(() => void this.#enqueue(() => this.#pump()), atLeastMs);
  }

  #halt(error: ChronicleError): void {
    this.#halted = true;
    this.#disconnect();
    this.#status = { ...this.#status, state: "error", lastError: error.toJSON() };
    this.#engine.emitStatus(this.stream, this.#status);
    this.#settleOnce(error);
  }

  async #pump(): Promise<void> {
    const sending = this.#connected && this.#engine.online;
    if (!sending || this.#push || this.#pull || this.#catchUp || this.#timers.retryScheduled) {
      return this.#refreshStatus();
    }
    const local = this.#engine.local;
    if (this.#needPull) {
      this.#needPull = false;
      const head = await local.confirmedHead(this.stream);
      const req = this.#nextReq();
      this.#pull = { req, timer: this.#timers.requestTimeout(() => this.#onSilence()) };
      this.#send({ t: "pull", req, after: head, limit: this.#engine.limits.maxPullLimit });
      return this.#refreshStatus();
    }
    // Asked for together: a log that keeps them (the browser's) reads them in one transaction.
    const [pending, commands] = await Promise.all([
      local.readPending(this.stream),
      local.readCommands(this.stream),
    ]);
    if (pending.length === 0) {
      await this.#backfillStep();
      await this.#refreshStatus();
      if (this.#once) this.#finishOnce();
      else this.#scheduleCatchUp();
      return;
    }
    const first = pending[0]!;
    const command = first.commandId ? commands.find((c) => c.id === first.commandId) : undefined;
    let entries: PendingEvent[];
    let expected: number | undefined;
    if (command?.strict) {
      const head = await local.confirmedHead(this.stream);
      const stale =
        command.basePosition < 0 ||
        // Decided before this device started after a floor: on a state that is gone.
        command.basePosition < (await local.confirmedFloor(this.stream)) ||
        (await local.readConfirmed(this.stream, command.basePosition)).some(
          (event) => event.meta.device !== this.#engine.device,
        );
      if (stale) {
        await redecideStrict(this.#engine, this.stream, command, pending);
        return this.#pump();
      }
      entries = pending.filter((entry) => entry.commandId === command.id);
      expected = head;
    } else {
      const strictIds = new Set(commands.filter((c) => c.strict).map((c) => c.id));
      entries = takeBatch(pending, strictIds, this.#engine.limits, this.#isolate);
    }
    const req = this.#nextReq();
    this.#push = { req, entries, timer: this.#timers.requestTimeout(() => this.#onSilence()) };
    this.#send({
      t: "push",
      req,
      events: toWireEvents(entries.map((entry) => entry.event)),
      ...(expected === undefined ? {} : { expected }),
    });
    await this.#refreshStatus();
  }

  // The stream's floor, read until it is 0 (see #floorZero).
  async #floor(): Promise<number> {
    if (this.#floorZero) return 0;
    const floor = await this.#engine.local.confirmedFloor(this.stream);
    this.#floorZero = floor === 0;
    return floor;
  }

  // Rule 12: asks for the next page below the floor, when back-filling and none is in flight.
  async #backfillStep(): Promise<void> {
    if (this.#backfill) return;
    if (this.#engine.backfill !== "background" && !this.#backfillWanted) return;
    const floor = await this.#floor();
    if (floor === 0) return this.#backfilled();
    const page = this.#engine.limits.maxPullLimit;
    // A page cut short by the frame size is kept and continued until it reaches the floor.
    const after = this.#backfillPage.at(-1)?.position ?? Math.max(0, floor - page);
    const req = this.#nextReq();
    this.#backfill = {
      req,
      upTo: floor,
      timer: this.#timers.requestTimeout(() => this.#onSilence()),
    };
    this.#send({ t: "pull", req, after, limit: Math.min(page, floor - after) });
  }

  async #onBackfillPage(events: readonly ConfirmedEvent[]): Promise<void> {
    const backfill = this.#backfill!;
    this.#timers.answered(backfill.timer);
    this.#backfill = undefined;
    const expected = (this.#backfillPage.at(-1)?.position ?? -1) + 1;
    const fresh = [...events]
      .sort((a, b) => a.position - b.position)
      .filter((event) => event.position <= backfill.upTo);
    // A page that does not continue what arrived (it cannot, short of a node bug): start over.
    if (this.#backfillPage.length > 0 && fresh[0] && fresh[0].position !== expected) {
      this.#backfillPage = [];
    } else this.#backfillPage.push(...fresh);
    if (this.#backfillPage.at(-1)?.position === backfill.upTo) {
      const complete = this.#backfillPage;
      this.#backfillPage = [];
      await this.#engine.local.prependConfirmed(this.stream, complete);
      this.#engine.emitChange(this.stream);
    }
    return this.#pump();
  }

  #backfilled(): void {
    this.#backfillWanted = false;
    const waiting = this.#backfillDone;
    this.#backfillDone = [];
    for (const done of waiting) done();
  }

  /** An idle live session pulls now and then (see SessionTimers.scheduleCatchUp). */
  #scheduleCatchUp(): void {
    if (!this.#connected) return;
    this.#timers.scheduleCatchUp(
      () =>
        void this.#enqueue(() => {
          if (!this.#connected) return;
          this.#needPull = true;
          return this.#pump();
        }),
    );
  }

  // A frame lost without the socket closing would wedge the session: treat silence as a broken
  // connection and start over (pushes are idempotent, so re-sending is safe).
  #onSilence(): void {
    void this.#enqueue(async () => {
      this.#disconnect();
      this.#status = {
        ...this.#status,
        lastError: new ChronicleError("offline", "the node did not answer in time").toJSON(),
      };
      await this.#refreshStatus();
      this.#scheduleReconnect();
    });
  }

  #nextReq(): string {
    return `${this.#engine.sessionId}-${++this.#requests}`;
  }

  #send(frame: Parameters<Connection["send"]>[0]): void {
    this.#connection?.send(frame);
  }

  #finishOnce(): void {
    if (this.#push || this.#pull || this.#catchUp || this.#needPull) return;
    this.#settleOnce();
    // Rule 12: synced; the connection stays for the back-fill under way, then closes.
    if (this.#backfill) return;
    this.#wanted = false;
    this.#once = false;
    this.#disconnect();
    void this.#refreshStatus();
  }

  #settleOnce(error?: unknown): void {
    const waiting = this.#onceDone;
    this.#onceDone = [];
    for (const done of waiting) done(error);
  }

  async #refreshStatus(): Promise<void> {
    const local = this.#engine.local;
    const [pending, confirmedHead] = await Promise.all([
      local.readPending(this.stream).then((list) => list.length),
      local.confirmedHead(this.stream),
    ]);
    let state: SyncStatus["state"];
    if (this.#halted) state = "error";
    else if (this.#unauthorized && this.#engine.online && this.#wanted) state = "unauthorized";
    else if (this.#connected)
      state =
        pending > 0 || this.#push || this.#pull || this.#catchUp || this.#needPull
          ? "syncing"
          : "synced";
    else if (this.#connection) state = "connecting";
    else state = "offline";
    this.#setState(state, pending, confirmedHead);
    if (state === "synced" && this.#onceDone.length > 0 && !this.#once) this.#settleOnce();
  }

  #setState(
    state: SyncStatus["state"],
    pending = this.#status.pending,
    confirmedHead = this.#status.confirmedHead,
  ): void {
    const next: SyncStatus = { ...this.#status, state, pending, confirmedHead };
    const previous = this.#status;
    this.#status = next;
    if (
      previous.state !== next.state ||
      previous.pending !== next.pending ||
      previous.confirmedHead !== next.confirmedHead ||
      previous.lastError !== next.lastError
    ) {
      this.#engine.emitStatus(this.stream, next);
    }
  }

  #fail(error: unknown): void {
    // A local failure (storage, a bug): report it and start over from a fresh connection.
    const coded = toChronicleError(error);
    this.#status = { ...this.#status, lastError: coded.toJSON() };
    this.#disconnect();
    this.#setState("offline");
    this.#engine.reportError(this.stream, coded);
    this.#scheduleReconnect();
  }
}

/** The event a refusal names (rule 9), when it names one of the pushed events. */
function culpritOf(
  entries: readonly PendingEvent[],
  error: ChronicleError,
): PendingEvent | undefined {
  const { id, path } = error.details;
  if (error.code === "id-conflict" && typeof id === "string") {
    return entries.find((entry) => entry.event.id === id);
  }
  const index = typeof path === "string" ? /^events\.(\d+)(\.|$)/.exec(path)?.[1] : undefined;
  return index === undefined ? undefined : entries[Number(index)];
}

/** The node's `retryAfter` (seconds) as milliseconds, 0 when it gave none. */
function retryAfterMs(error: ChronicleError): number {
  const seconds = error.details.retryAfter;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0
    ? Math.min(seconds, 3600) * 1000
    : 0;
}

function withoutError(status: SyncStatus): SyncStatus {
  const { lastError: _lastError, ...rest } = status;
  return rest;
}

// internal: not exported. A stream session's timers, on the engine's Scheduler (virtual time in
// tests): the reconnect backoff, the retry after `rate-limited`, request and hello timeouts, and
// the idle catch-up pull. The session decides when to arm them; this file owns the delays.
// 1. Reconnect delays double from `initialMs` up to `maxMs`, with jitter between half and all of
//    the step, so devices that lost the node together do not all come back in the same
//    millisecond. A welcome (or the network coming back) starts the doubling over.
// 2. At most one reconnect, one retry, one hello and one catch-up timer are armed at a time.
// 3. A node that asks to wait (`retryAfter`) is waited for at least that long, whatever the step.
import type { Scheduler } from "./transport.ts";

export interface SessionTimerOptions {
  readonly scheduler: Scheduler;
  readonly backoff: { initialMs: number; maxMs: number };
  readonly requestTimeoutMs: number;
  readonly catchUpIntervalMs: number;
}

export class SessionTimers {
  readonly #options: SessionTimerOptions;
  #attempt = 0;
  #reconnect: unknown;
  #retry: unknown;
  #hello: unknown;
  #catchUp: unknown;

  constructor(options: SessionTimerOptions) {
    this.#options = options;
  }

  /** A reconnect is waiting for its delay. */
  get reconnectScheduled(): boolean {
    return this.#reconnect !== undefined;
  }

  /** A retry after `rate-limited` is waiting: nothing is sent meanwhile. */
  get retryScheduled(): boolean {
    return this.#retry !== undefined;
  }

  /** The next reconnect waits the shortest step again. */
  resetBackoff(): void {
    this.#attempt = 0;
  }

  /**
   * Runs `reconnect` after the next backoff step (and at least `atLeastMs`), unless one is
   * waiting already.
   */
  scheduleReconnect(reconnect: () => void, atLeastMs = 0): void {
    if (this.#reconnect !== undefined) return;
    const { initialMs, maxMs } = this.#options.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.#attempt, 30));
    const delay = Math.max(atLeastMs, base / 2 + (base / 2) * this.#options.scheduler.random());
    this.#attempt++;
    this.#reconnect = this.#options.scheduler.setTimeout(() => {
      this.#reconnect = undefined;
      reconnect();
    }, delay);
  }

  /**
   * The reconnect is being carried out: a timer still armed no longer counts as waiting (it may
   * have been armed again while the connect waited its turn on the session's chain).
   */
  reconnectStarted(): void {
    this.#reconnect = undefined;
  }

  cancelReconnect(): void {
    this.#options.scheduler.clearTimeout(this.#reconnect);
    this.#reconnect = undefined;
  }

  /**
   * Runs `retry` after a backoff step without jitter, and at least `atLeastMs` (the node asked
   * to slow down).
   */
  retryLater(retry: () => void, atLeastMs = 0): void {
    const { initialMs, maxMs } = this.#options.backoff;
    const delay = Math.max(
      atLeastMs,
      Math.min(maxMs, initialMs * 2 ** Math.min(this.#attempt++, 10)),
    );
    this.#retry = this.#options.scheduler.setTimeout(() => {
      this.#retry = undefined;
      retry();
    }, delay);
  }

  /** Calls `onSilence` if the request is not answered in `requestTimeoutMs`; returns the handle. */
  requestTimeout(onSilence: () => void): unknown {
    return this.#options.scheduler.setTimeout(onSilence, this.#options.requestTimeoutMs);
  }

  /** Clears a request timeout. */
  answered(handle: unknown): void {
    this.#options.scheduler.clearTimeout(handle);
  }

  /** Arms the timeout of a `hello` (replacing the previous one). */
  helloSent(onSilence: () => void): void {
    this.#options.scheduler.clearTimeout(this.#hello);
    this.#hello = this.requestTimeout(onSilence);
  }

  helloAnswered(): void {
    this.#options.scheduler.clearTimeout(this.#hello);
    this.#hello = undefined;
  }

  /** The connection is gone: its hello and retry timers go with it. */
  connectionGone(): void {
    this.#options.scheduler.clearTimeout(this.#retry);
    this.helloAnswered();
    this.#retry = undefined;
  }

  /**
   * Runs `pull` after `catchUpIntervalMs` (0 turns it off), unless one is waiting already: an
   * idle live session pulls now and then, as a live frame lost without the connection closing
   * (a proxy, a bug) would otherwise leave this device behind until its next write.
   */
  scheduleCatchUp(pull: () => void): void {
    const every = this.#options.catchUpIntervalMs;
    if (every <= 0 || this.#catchUp !== undefined) return;
    this.#catchUp = this.#options.scheduler.setTimeout(() => {
      this.#catchUp = undefined;
      pull();
    }, every);
  }
}

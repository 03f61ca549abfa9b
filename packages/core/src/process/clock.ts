/**
 * Time for process runners: the current time and one-shot timers. Deadlines and retry times are
 * persisted as absolute times, so a runner that restarts fires whatever fell due while it was
 * stopped; the timer only wakes a running runner up.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` after `ms`; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

/**
 * The real clock: `Date.now` and `setTimeout`.
 *
 * @example
 * createProcessRunner({ ..., clock: systemClock });
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

/** A clock that moves only when told: for tests and simulations. */
export interface VirtualClock extends Clock {
  /** Moves time forward by `ms` and calls the timers that fell due, earliest first. */
  advance(ms: number): void;
  /** Moves time to `time` (never backwards) and calls the timers that fell due. */
  set(time: number): void;
  /** How many timers are waiting. */
  readonly pendingTimers: number;
}

/**
 * A virtual clock starting at `start` (ms since the epoch).
 *
 * @example
 * const clock = createVirtualClock(Date.UTC(2025, 0, 1));
 * clock.advance(15 * 60_000); // fifteen minutes later, at once
 */
export function createVirtualClock(start = 0): VirtualClock {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const set = (time: number) => {
    now = Math.max(now, time);
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of timers) {
        if (entry[1].at <= now && (due === undefined || entry[1].at < due[1].at)) due = entry;
      }
      if (due === undefined) return;
      timers.delete(due[0]);
      due[1].callback();
    }
  };
  return {
    now: () => now,
    setTimer(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), callback });
      return () => timers.delete(id);
    },
    advance: (ms) => set(now + ms),
    set,
    get pendingTimers() {
      return timers.size;
    },
  };
}

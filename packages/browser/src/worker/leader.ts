// internal: not exported. One leader per database across tabs and workers, with Web Locks: the
// leader holds an exclusive lock for as long as it lives, and the browser hands the lock to the
// next waiting context when the holder closes, crashes or its tab goes away.

export interface Leadership {
  /** True while this context holds the lock. */
  readonly isLeader: boolean;
  /** Lets go of the lock (or stops waiting for it). */
  release(): void;
}

interface LockManagerLike {
  request(
    name: string,
    options: { mode: "exclusive"; signal: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/**
 * Waits for the database's leader lock and calls `onChange(true)` when it is granted and
 * `onChange(false)` when it is released. Without Web Locks (Node, old browsers) this context is
 * the only one and leads at once.
 */
export function electLeader(lockName: string, onChange: (leader: boolean) => void): Leadership {
  // happy-dom (and some embedded runtimes) define `navigator.locks` as null: no Web Locks either.
  const locks = (globalThis.navigator as { locks?: LockManagerLike | null } | undefined)?.locks;
  let leader = false;
  let released = false;
  const abort = new AbortController();
  let letGo: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });

  if (locks == null) {
    leader = true;
    queueMicrotask(() => {
      if (!released) onChange(true);
    });
  } else {
    locks
      .request(lockName, { mode: "exclusive", signal: abort.signal }, async () => {
        if (released) return;
        leader = true;
        onChange(true);
        await held;
      })
      // An aborted wait rejects with AbortError: that is how release() stops waiting.
      .catch(() => {});
  }

  return {
    get isLeader() {
      return leader;
    },
    release() {
      if (released) return;
      released = true;
      abort.abort();
      letGo();
      if (leader) {
        leader = false;
        onChange(false);
      }
    },
  };
}

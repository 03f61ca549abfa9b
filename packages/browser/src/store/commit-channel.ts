// internal: not exported. Tells every store on the same database, in this context and in other
// tabs and workers, that events were committed. A notification carries no events: receivers
// read from their own cursors (see createPullSubscription), so a lost or duplicated message
// cannot make a subscriber skip or repeat an event.

import type { ProjectionRecord } from "@chronicle/core";

/**
 * What a commit announces to listeners in this context and in other tabs. Internal: not
 * exported; the docs show it inline in DexieEventStore's `onCommit` and `announce`.
 *
 * @inline
 */
export interface CommitNotice {
  /** The streams that received events. */
  streams: string[];
  /**
   * Projection records the commit wrote: only on notices from this context (other tabs read
   * the records from the database, which is cheaper than posting them to every tab).
   */
  records?: readonly ProjectionRecord[];
  /** The commit added pending events (sync mode): the leader's sync engine should push them. */
  pending?: boolean;
  /** Set on notices that came from another context (tab or worker). */
  remote?: boolean;
}

export interface CommitChannel {
  /** Runs `listener` after every commit, local or remote; returns the unregister function. */
  listen(listener: (notice: CommitNotice) => void): () => void;
  /** Announces a local commit here and to other contexts. */
  announce(notice: CommitNotice): void;
  close(): void;
}

/**
 * A commit channel over BroadcastChannel (when the runtime has it) plus local listeners, which
 * BroadcastChannel does not call for the sender's own messages.
 */
export function createCommitChannel(name: string | undefined): CommitChannel {
  const listeners = new Set<(notice: CommitNotice) => void>();
  const broadcast =
    name !== undefined && typeof BroadcastChannel === "function"
      ? new BroadcastChannel(name)
      : undefined;
  const outbox: CommitNotice[] = [];
  let closed = false;
  const flush = () => {
    for (const message of outbox.splice(0)) broadcast?.postMessage(message);
  };
  const dispatch = (notice: CommitNotice) => {
    for (const listener of [...listeners]) listener(notice);
  };
  if (broadcast) {
    broadcast.onmessage = (message: MessageEvent<CommitNotice>) => {
      if (Array.isArray(message.data?.streams)) dispatch({ ...message.data, remote: true });
    };
  }
  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce(notice) {
      dispatch(notice);
      if (!broadcast || closed) return;
      const message = notice.pending
        ? { streams: notice.streams, pending: true }
        : { streams: notice.streams };
      // Posted in a task of its own: a commit's caller replies to the main thread in the
      // commit's microtasks, and that reply should not wait behind the post to other tabs
      // (measured in the write-to-render bench). Queued, so notices keep the order of commits;
      // close() posts what is still queued.
      outbox.push(message);
      if (outbox.length === 1) setTimeout(flush, 0);
    },
    close() {
      flush();
      closed = true;
      listeners.clear();
      broadcast?.close();
    },
  };
}

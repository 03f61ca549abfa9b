// internal: not exported. Tells every store on the same database, in this context and in other
// tabs and workers, that events were committed. A notification carries no events: receivers
// read from their own cursors (see createPullSubscription), so a lost or duplicated message
// cannot make a subscriber skip or repeat an event.

import type { ProjectionRecord } from "@chronicle/core";

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
  const dispatch = (notice: CommitNotice) => {
    for (const listener of [...listeners]) listener(notice);
  };
  if (broadcast) {
    broadcast.onmessage = (message: MessageEvent<CommitNotice>) => {
      if (Array.isArray(message.data?.streams)) dispatch(message.data);
    };
  }
  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce(notice) {
      dispatch(notice);
      broadcast?.postMessage(
        notice.pending ? { streams: notice.streams, pending: true } : { streams: notice.streams },
      );
    },
    close() {
      listeners.clear();
      broadcast?.close();
    },
  };
}

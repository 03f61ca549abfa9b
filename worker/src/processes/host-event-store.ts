// internal: not exported. The EventStore core's process runner sees inside a ProcessHost:
// `readAll` is the host's inbox (arrival order), `readStream`, `head` and `append` go to the
// target stream's StreamLog object by RPC. An append carries the command's deterministic event
// ids and the head it decided on (`expectedVersion`), so a delivery made twice (a retry, a host
// that crashed before recording it) is a duplicate the log answers without storing (rule 3).
import type { AppendResult, ConfirmedEvent, EventStore, NewEvent } from "@chronicle/core";
import type { SyncNodeEnv } from "../env.ts";
import { type Outcome, unwrap } from "../stream-log/worker-contract.ts";
import type { Inbox } from "./inbox.ts";

export function createHostEventStore(env: SyncNodeEnv, inbox: Inbox): EventStore {
  const logOf = (stream: string) => env.STREAM_LOG.get(env.STREAM_LOG.idFromName(stream));
  return {
    async append(stream, events, options = {}) {
      const outcome = await logOf(stream).append(
        stream,
        events as NewEvent[],
        options.expectedVersion ?? "any",
      );
      return unwrap(outcome as Outcome<AppendResult>);
    },
    async readStream(stream, options = {}) {
      return unwrap((await logOf(stream).readStream(stream, options)) as Outcome<ConfirmedEvent[]>);
    },
    async head(stream) {
      return unwrap(await logOf(stream).info(stream)).head;
    },
    readAll: async (options = {}) =>
      inbox.read(options.after ?? 0, options.limit ?? Number.MAX_SAFE_INTEGER),
    lastCheckpoint: async () => inbox.last(),
    // The host drives its runner itself (drain on feed and on alarm); nothing subscribes.
    subscribe() {
      throw new Error("a process host's store has no subscriptions: the host drains its runner");
    },
    async close() {},
  };
}

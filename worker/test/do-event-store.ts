// internal: test adapter. An EventStore over StreamLog objects, one per stream, through RPC.
// Each store gets fresh object ids (newUniqueId) so every contract test starts empty.
import type { AppendResult, ConfirmedEvent, EventStore, NewEvent } from "@chronicle/core";
import { createPullSubscription } from "@chronicle/core/store";
import type { StreamLog } from "../src/stream-log/StreamLog.ts";
import { type Outcome, unwrap } from "../src/stream-log/worker-contract.ts";

export function createDurableObjectEventStore(
  namespace: DurableObjectNamespace<StreamLog>,
  now: () => number,
): EventStore {
  const ids = new Map<string, DurableObjectId>();
  const listeners = new Set<() => void>();
  const logOf = (stream: string) => {
    let id = ids.get(stream);
    if (!id) {
      id = namespace.newUniqueId();
      ids.set(stream, id);
    }
    return namespace.get(id);
  };
  const unsupported = (): never => {
    throw new Error("a StreamLog holds one stream: no reads across streams");
  };

  return {
    async append(stream, events, options = {}) {
      const outcome = await logOf(stream).append(
        stream,
        events as NewEvent[],
        options.expectedVersion ?? "any",
        now(),
      );
      const result = unwrap(outcome as Outcome<AppendResult>);
      for (const listener of listeners) listener();
      return result;
    },
    async readStream(stream, options = {}) {
      return unwrap((await logOf(stream).readStream(stream, options)) as Outcome<ConfirmedEvent[]>);
    },
    async head(stream) {
      return unwrap(await logOf(stream).info(stream)).head;
    },
    readAll: async () => unsupported(),
    lastCheckpoint: async () => unsupported(),
    subscribe(options, handler) {
      if (options.stream === undefined) unsupported();
      const stream = options.stream!;
      return createPullSubscription({
        after: options.after ?? 0,
        handler,
        onError: options.onError,
        read: async (after) =>
          (await this.readStream(stream, { from: after + 1, limit: 100 })).map((event) => ({
            checkpoint: event.position,
            event,
          })),
        listen: (onCommit) => {
          listeners.add(onCommit);
          return () => listeners.delete(onCommit);
        },
      });
    },
    async close() {
      listeners.clear();
    },
  };
}

// The core store contract, run against the StreamLog Durable Object through its EventStore-style
// RPC (append/readStream), with one object per stream like the node.
import { runEventStoreContract } from "@chronicle/core/testing/store-contract";
import { createDurableObjectEventStore } from "./do-event-store.ts";
import { nodeEnv } from "./node-client.ts";

runEventStoreContract("StreamLog Durable Object", {
  makeStore: ({ now }) => createDurableObjectEventStore(nodeEnv.STREAM_LOG, now),
  // allStreams: a StreamLog holds one stream; there is no global commit order across objects
  // (readAll, lastCheckpoint and all-stream subscriptions do not exist on the node).
  // Subscriptions run (createPullSubscription over readStream); the node's own live delivery is
  // the WebSocket broadcast, tested in rules.workerd.test.ts.
  skip: { allStreams: true },
});

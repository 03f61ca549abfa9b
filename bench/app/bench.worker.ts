// internal: not exported. The worker module of the browser benchmarks, built for production
// (bench/prod-build.ts) and loaded as apps load theirs. Sync is configured by the worker URL's
// query: `?node=<url>&token=<token>&online=0|1&streams=a,b`; no `node` means no sync.
import { hostChronicle } from "@chronicle/browser/worker";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { itemAdded, tally, tallyView } from "./tally.ts";

const query = new URLSearchParams(globalThis.location.search);
const node = query.get("node");

hostChronicle({
  name: "chronicle-bench",
  events: [itemAdded],
  deciders: [tally],
  projections: [tallyView],
  actor: query.get("actor") ?? "bench",
  sync: node
    ? createSyncStarter({
        transport: createWebSocketTransport({ url: node, token: query.get("token") ?? "" }),
        streams: (query.get("streams") ?? "").split(",").filter(Boolean),
        followNetwork: false,
        online: query.get("online") !== "0",
      })
    : undefined,
});

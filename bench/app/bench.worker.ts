// internal: not exported. The worker module of the browser benchmarks, built for production
// (bench/prod-build.ts) and loaded as apps load theirs. Sync is configured by the worker URL's
// query: `?node=<url>&token=<token>&online=0|1&streams=a,b&snapshots=0|1`; no `node` means no
// sync. `snapshots=1` starts a new device from the node's snapshots (back-fill on demand), and
// answers `{ stream }` on the BroadcastChannel `chronicle-bench-floor` with `{ stream, floor }`
// (the engine's `historyFloor`: > 0 when the device really started from a snapshot).
// `?processes=1` hosts the process benchmark's process (bench/app/tally-process.ts).
import { hostChronicle } from "@chronicle/browser/worker";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { itemAdded, tally, tallyView } from "./tally.ts";
import { tallyProcess } from "./tally-process.ts";

const query = new URLSearchParams(globalThis.location.search);
const node = query.get("node");
const snapshots = query.get("snapshots") === "1";

hostChronicle({
  name: "chronicle-bench",
  events: [itemAdded],
  deciders: [tally],
  projections: [tallyView],
  ...(query.get("processes") === "1" ? { processes: [tallyProcess] } : {}),
  actor: query.get("actor") ?? "bench",
  sync: node
    ? createSyncStarter({
        transport: createWebSocketTransport({ url: node, token: query.get("token") ?? "" }),
        streams: (query.get("streams") ?? "").split(",").filter(Boolean),
        followNetwork: false,
        online: query.get("online") !== "0",
        ...(snapshots
          ? {
              snapshots: { deciders: [tally], projections: [tallyView], backfill: "on-demand" },
              onEngine(engine) {
                const channel = new BroadcastChannel("chronicle-bench-floor");
                channel.onmessage = async ({ data }: MessageEvent<{ stream: string }>) => {
                  const floor = await engine.historyFloor(data.stream);
                  channel.postMessage({ stream: data.stream, floor });
                };
              },
            }
          : {}),
      })
    : undefined,
});

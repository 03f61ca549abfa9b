// internal: benchmark only. The Worker entry of bench/sync-node.wrangler.toml: the sync node as an
// app builds it, plus the raw echo baseline (`GET /bench/echo/:room`) in the same workerd, so the
// benchmark compares the two under the same load. It keeps snapshots of the bench app's decider
// and projection for new devices (bench/new-device.browser.bench.ts).
import {
  createSyncNode,
  StreamDirectory,
  StreamLog,
  type SyncNodeEnv,
} from "../../worker/src/index.ts";
import { tally, tallyView } from "../app/tally.ts";
import { EchoSocket } from "./echo-socket.ts";

interface BenchEnv extends SyncNodeEnv {
  ECHO: DurableObjectNamespace<EchoSocket>;
}

// New devices of the bench app start from snapshots of its decider and projection (every 1,000).
const app = createSyncNode<BenchEnv>({
  snapshots: { deciders: [tally], projections: [tallyView] },
});
app.get("/bench/echo/:room", (c) =>
  c.env.ECHO.get(c.env.ECHO.idFromName(c.req.param("room"))).fetch(c.req.raw),
);

export { EchoSocket, StreamDirectory, StreamLog };
export default app;

// internal: benchmark only. The Worker entry of bench/sync-node.wrangler.toml: the sync node as an
// app builds it, plus the raw echo baseline (`GET /bench/echo/:room`) in the same workerd, so the
// benchmark compares the two under the same load.
import {
  createSyncNode,
  StreamDirectory,
  StreamLog,
  type SyncNodeEnv,
} from "../../worker/src/index.ts";
import { EchoSocket } from "./echo-socket.ts";

interface BenchEnv extends SyncNodeEnv {
  ECHO: DurableObjectNamespace<EchoSocket>;
}

const app = createSyncNode<BenchEnv>();
app.get("/bench/echo/:room", (c) =>
  c.env.ECHO.get(c.env.ECHO.idFromName(c.req.param("room"))).fetch(c.req.raw),
);

export { EchoSocket, StreamDirectory, StreamLog };
export default app;

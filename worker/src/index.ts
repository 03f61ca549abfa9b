// The Chronicle sync node (Cloudflare Worker): a hono app in front of one StreamLog Durable
// Object per stream. See worker/README.md for endpoints, auth and limits.
import { createApp } from "./app.ts";

export { EchoSocket } from "./bench/EchoSocket.ts";
export { StreamLog } from "./stream-log/StreamLog.ts";

const app = createApp();

export default { fetch: app.fetch } satisfies ExportedHandler<import("./env.ts").NodeEnv>;

// The repository's own sync node (the root wrangler.toml's `main`): `npm run dev:node`, the e2e
// and workerd tiers and `wrangler deploy` from this repo run it. It is exactly an app's entry,
// taken from this package's sources; it is not part of the published package.
import { createSyncNode, StreamDirectory, StreamLog } from "./src/index.ts";

export { StreamDirectory, StreamLog };
export default createSyncNode();

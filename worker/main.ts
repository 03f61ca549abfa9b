// The repository's own sync node (the root wrangler.toml's `main`): `npm run dev:node`, the e2e
// and workerd tiers and `wrangler deploy` from this repo run it. It is exactly an app's entry,
// taken from this package's sources; it is not part of the published package. It keeps
// snapshots of the demo's board for new devices (worker/src/snapshots/), as an app passes its
// own definitions.
import { board, boardView } from "../demo/src/board.ts";
import { createSyncNode, StreamDirectory, StreamLog } from "./src/index.ts";

export { StreamDirectory, StreamLog };
export default createSyncNode({ snapshots: { deciders: [board], projections: [boardView] } });

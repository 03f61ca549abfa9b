// The repository's own sync node (the root wrangler.toml's `main`): `npm run dev:node`, the e2e
// and workerd tiers and `wrangler deploy` from this repo run it. It is exactly an app's entry,
// taken from this package's sources; it is not part of the published package. It keeps
// snapshots of the demo's board for new devices (worker/src/snapshots/), as an app passes its
// own definitions. Visitors sign in anonymously (POST /v1/sign-in: a visitor id in a signed
// cookie, 10-minute tokens for the demo's boards); the demo's deployment (demo/wrangler.toml)
// runs this same entry.
import { board, boardView } from "../demo/src/board.ts";
import {
  anonymousSignIn,
  createSyncNode,
  ProcessHost,
  StreamDirectory,
  StreamLog,
} from "./src/index.ts";

export { ProcessHost, StreamDirectory, StreamLog };
export default createSyncNode({
  snapshots: { deciders: [board], projections: [boardView] },
  // 60 a minute per address: the e2e suites open many devices from one address.
  signIn: anonymousSignIn({
    streams: { "board:*": "write" },
    rateLimit: { perMinute: 60, burst: 60 },
  }),
});

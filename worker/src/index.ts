// @chronicle/node: the Chronicle sync node for Cloudflare Workers. A hono app in front of one
// StreamLog Durable Object per stream. An app's Worker entry is three lines:
//
//   import { createSyncNode, StreamDirectory, StreamLog } from "@chronicle/node";
//   export { StreamDirectory, StreamLog };
//   export default createSyncNode();
//
// See README.md for wrangler.toml, options, endpoints, auth and limits.
export { createSyncNode } from "./create-sync-node.ts";
export { StreamDirectory } from "./directory/StreamDirectory.ts";
export type { SyncNodeEnv, SyncNodeLimits } from "./env.ts";
export type {
  JwksAlgorithm,
  SyncNodeAuthOptions,
  SyncNodeCorsOptions,
  SyncNodeJwksOptions,
  SyncNodeOptions,
  TokenGrants,
} from "./options.ts";
export { ProcessHost } from "./processes/ProcessHost.ts";
export type { SyncNodeProcessOptions } from "./processes/process-options.ts";
export {
  type AnonymousSignInOptions,
  anonymousSignIn,
  type SignInRateLimit,
  type SignInRateLimiter,
} from "./sign-in/anonymous-sign-in.ts";
export type { SignIn, SignInAnswer, SignInGrant } from "./sign-in/sign-in.ts";
export { StreamLog } from "./stream-log/StreamLog.ts";

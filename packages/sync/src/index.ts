// @chronicle/sync: the client sync engine and transports (the wire protocol is the
// `@chronicle/sync/protocol` entry point, shared with the sync node). The types of the seam it
// plugs into (SyncStatus, RejectedNotice, EpochResetNotice, SyncContext, SyncStarter) and
// ExecuteOptions are @chronicle/core's.

export {
  type FollowState,
  type FollowStreamsOptions,
  followStreams,
  type StreamFollower,
} from "./client/follow-streams.ts";
export { createHttpTransport, type HttpTransportOptions } from "./client/http-transport.ts";
export { followNetworkStatus } from "./client/network-status.ts";
export {
  createSyncEngine,
  type OptimisticStreamState,
  type StreamState,
  type SyncEngine,
  type SyncEngineOptions,
} from "./client/sync-engine.ts";
export { createSyncStarter, type SyncStarterOptions } from "./client/sync-starter.ts";
export type { TokenSource } from "./client/token.ts";
export {
  type Connection,
  type ConnectionListener,
  type ConnectOptions,
  realScheduler,
  type Scheduler,
  type SyncTransport,
} from "./client/transport.ts";
export {
  createWebSocketTransport,
  type WebSocketConstructor,
  type WebSocketTransportOptions,
} from "./client/websocket-transport.ts";
export {
  accessFor,
  type ClientFrame,
  defaultLimits,
  PROTOCOL_VERSION,
  type ProtocolLimits,
  type ServerFrame,
  type StreamHead,
} from "./protocol/index.ts";

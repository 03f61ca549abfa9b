// @chronicle/sync: the client sync engine and transports (the wire protocol is the
// `@chronicle/sync/protocol` entry point, shared with the sync node).
export {
  accessFor,
  type ClientFrame,
  defaultLimits,
  PROTOCOL_VERSION,
  type ProtocolLimits,
  type ServerFrame,
} from "./protocol/index.ts";

// @chronicle/sync/testing: an in-memory node that follows the protocol's rules, and a
// deterministic, fault-injecting network on virtual time, for testing apps' sync behaviour.

export { createLoopbackTransport } from "./loopback-transport.ts";
export { type FaultRates, MemoryNetwork, MemoryTransport, seededRandom } from "./memory-network.ts";
export {
  type AcceptOptions,
  MemoryNode,
  type MemoryNodeCaller,
  type MemoryNodeOptions,
  type NodeSocket,
} from "./memory-node.ts";

import type { Connection, ConnectionListener, SyncTransport } from "../client/transport.ts";
import type { MemoryNode } from "./memory-node.ts";

/**
 * A transport straight to a MemoryNode on real timers: frames cross as JSON text, in order,
 * each in its own macrotask like a socket's messages. No faults; use MemoryNetwork for those.
 *
 * @example
 * const engine = createSyncEngine({ local, transport: createLoopbackTransport(node), device: "d1" });
 */
export function createLoopbackTransport(node: MemoryNode): SyncTransport {
  return {
    connect(stream: string, listener: ConnectionListener): Connection {
      let open = true;
      let chain = Promise.resolve();
      const later = (step: () => void | Promise<void>) => {
        chain = chain
          .then(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))
          .then(() => (open ? step() : undefined));
      };
      const socket = node.accept(stream, (frame) => {
        const copy = JSON.parse(JSON.stringify(frame));
        later(() => listener.onFrame(copy));
      });
      later(() => listener.onOpen());
      return {
        send: (frame) => later(() => socket.receive(JSON.stringify(frame))),
        close: () => {
          open = false;
          socket.close();
        },
      };
    },
  };
}

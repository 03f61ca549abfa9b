import { ChronicleError } from "@chronicle/core";
import { resolveToken, type TokenSource } from "../client/token.ts";
import type { Connection, ConnectionListener, SyncTransport } from "../client/transport.ts";
import type { MemoryNode, NodeSocket } from "./memory-node.ts";

/**
 * A transport straight to a MemoryNode on real timers: frames cross as JSON text, in order,
 * each in its own macrotask like a socket's messages. No faults; use MemoryNetwork for those.
 *
 * @example
 * const engine = createSyncEngine({ local, transport: createLoopbackTransport(node), device: "d1" });
 */
export function createLoopbackTransport(
  node: MemoryNode,
  options: {
    /** Sent with each connection, for a node with `auth`; a function is called for each one. */
    token?: TokenSource;
  } = {},
): SyncTransport {
  return {
    async snapshots(stream, wants) {
      const token = await resolveToken(options.token);
      return JSON.parse(
        JSON.stringify(node.snapshots(stream, wants, token === undefined ? {} : { token })),
      );
    },
    connect(stream: string, listener: ConnectionListener): Connection {
      let open = true;
      let socket: NodeSocket | undefined;
      let chain = Promise.resolve();
      const later = (step: () => void | Promise<void>) => {
        chain = chain
          .then(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))
          .then(() => (open ? step() : undefined));
      };
      const end = (error?: unknown) => {
        if (!open) return;
        open = false;
        socket?.close();
        listener.onClose(error);
      };
      // The token is checked as the connection opens, like an upgrade; the node closing the
      // connection (4401 at the token's expiry) comes after the frames it sent.
      later(async () => {
        try {
          const token = await resolveToken(options.token);
          socket = node.accept(
            stream,
            (frame) => {
              const copy = JSON.parse(JSON.stringify(frame));
              later(() => listener.onFrame(copy));
            },
            {
              ...(token === undefined ? {} : { token }),
              onClose: (code, reason) =>
                later(() =>
                  end(code === 4401 ? new ChronicleError("unauthorized", reason) : undefined),
                ),
            },
          );
        } catch (error) {
          return end(error);
        }
        listener.onOpen();
      });
      return {
        send: (frame) => later(() => socket?.receive(JSON.stringify(frame))),
        close: () => {
          open = false;
          socket?.close();
        },
      };
    },
  };
}

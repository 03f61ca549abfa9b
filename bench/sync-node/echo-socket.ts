// internal: benchmark only. A raw WebSocket Durable Object with no protocol, no storage and no
// parsing: the baseline the sync benchmark divides by. Bound only by bench/sync-node.wrangler.toml
// (entry: ./index.ts), never by a node that is deployed.
// A text frame starting with "b" is also relayed to every other socket (the fan-out baseline);
// every frame is echoed to its sender (the round-trip baseline).
import { DurableObject } from "cloudflare:workers";

export class EchoSocket extends DurableObject {
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 400 });
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message === "string" && message.startsWith("b")) {
      for (const other of this.ctx.getWebSockets()) if (other !== ws) other.send(message);
    }
    ws.send(message);
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }
}

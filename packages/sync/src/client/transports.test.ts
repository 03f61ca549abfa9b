// The WebSocket and HTTP transports over real sockets: a Node server (ws + http) fronting the
// in-memory node, with the real engine on real timers. Waits are on status events, not sleeps.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryLocalLog, type SyncStatus } from "@chronicle/core";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { account } from "../__fixtures__/account.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { HEARTBEAT } from "../protocol/limits.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import { createHttpTransport } from "./http-transport.ts";
import { createSyncEngine, type SyncEngine } from "./sync-engine.ts";
import type { SyncTransport } from "./transport.ts";
import { createWebSocketTransport } from "./websocket-transport.ts";

const STREAM = "account:1";
const TOKEN = "good-token";

interface TestNode {
  url: string;
  node: MemoryNode;
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

async function startNode(): Promise<TestNode> {
  const node = new MemoryNode({ actor: "user" });
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    const match = /^\/v1\/streams\/([^/]+)\/events$/.exec(url.pathname);
    if (!match || request.headers.authorization !== `Bearer ${TOKEN}`) {
      response.writeHead(match ? 401 : 404, { "content-type": "application/json" });
      return response.end(
        JSON.stringify({ code: match ? "unauthorized" : "not-found", message: "no" }),
      );
    }
    // One node socket per request: the node's frames become the HTTP answer.
    const replies: ServerFrame[] = [];
    const socket = node.accept(decodeURIComponent(match[1]!), (frame) => replies.push(frame));
    if (request.method === "POST") {
      const body = JSON.parse(await readBody(request));
      socket.receive(
        JSON.stringify({
          t: "push",
          req: "h",
          events: body.events,
          ...(body.expected === undefined ? {} : { expected: body.expected }),
        }),
      );
    } else {
      socket.receive(
        JSON.stringify({
          t: "pull",
          req: "h",
          after: Number(url.searchParams.get("after") ?? 0),
          limit: Number(url.searchParams.get("limit") ?? 500),
        }),
      );
    }
    socket.close();
    const reply = replies[0]!;
    const [status, body] =
      reply.t === "ack"
        ? [200, { results: reply.results }]
        : reply.t === "events"
          ? [200, { events: reply.events, head: reply.head, more: reply.more ?? false }]
          : reply.t === "conflict"
            ? [409, { code: "conflict", message: "head moved", head: reply.head }]
            : [400, { code: (reply as { code: string }).code, message: "refused" }];
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
  server.on("upgrade", (request, tcp, head) => {
    const url = new URL(request.url ?? "/", "http://x");
    const match = /^\/v1\/streams\/([^/]+)\/ws$/.exec(url.pathname);
    if (!match || url.searchParams.get("token") !== TOKEN) {
      tcp.end("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, tcp, head, (ws) => {
      sockets.add(ws);
      const nodeSocket = node.accept(decodeURIComponent(match[1]!), (frame) =>
        ws.send(JSON.stringify(frame)),
      );
      ws.on("message", (data) => {
        const text = data.toString();
        if (text === HEARTBEAT.ping) return ws.send(HEARTBEAT.pong);
        nodeSocket.receive(text);
      });
      ws.on("close", () => {
        sockets.delete(ws);
        nodeSocket.close();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    node,
    sockets,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => resolve(body));
  });
}

function until(
  engine: SyncEngine,
  predicate: (status: SyncStatus) => boolean,
): Promise<SyncStatus> {
  return new Promise((resolve) => {
    // The listener hears the current status at once (maybe before `stop` is assigned).
    let done = false;
    const stop = engine.onSyncStatus(STREAM, (status) => {
      if (done || !predicate(status)) return;
      done = true;
      queueMicrotask(() => stop());
      resolve(status);
    });
  });
}

let running: TestNode | undefined;
const engines: SyncEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) engine.close();
  await running?.close();
  running = undefined;
});

function device(transport: SyncTransport, name: string) {
  const local = new MemoryLocalLog();
  const engine = createSyncEngine({
    local,
    transport,
    device: name,
    actor: "user",
    deciders: [account],
    backoff: { initialMs: 20, maxMs: 200 },
  });
  engines.push(engine);
  return { local, engine };
}

describe("transports over real sockets", () => {
  it("WebSocket: two devices converge, live events reach the other socket", async () => {
    running = await startNode();
    const ws = () =>
      createWebSocketTransport({ url: running!.url, token: TOKEN, WebSocket: WebSocket as never });
    const a = device(ws(), "a");
    const b = device(ws(), "b");
    a.engine.start(STREAM);
    b.engine.start(STREAM);
    await Promise.all([
      until(a.engine, (s) => s.state === "synced"),
      until(b.engine, (s) => s.state === "synced"),
    ]);
    await a.engine.execute(STREAM, account, { deposit: 3 });
    await b.engine.execute(STREAM, account, { deposit: 4 });
    await Promise.all([
      until(a.engine, (s) => s.confirmedHead === 2 && s.pending === 0),
      until(b.engine, (s) => s.confirmedHead === 2 && s.pending === 0),
    ]);
    const log = running.node.log(STREAM);
    expect(await a.local.readConfirmed(STREAM)).toEqual(log);
    expect(await b.local.readConfirmed(STREAM)).toEqual(log);
  });

  it("WebSocket: reconnects after the server drops the socket and resumes from the cursor", async () => {
    running = await startNode();
    const a = device(
      createWebSocketTransport({ url: running.url, token: TOKEN, WebSocket: WebSocket as never }),
      "a",
    );
    a.engine.start(STREAM);
    await until(a.engine, (s) => s.state === "synced");
    for (const socket of running.sockets) socket.terminate();
    await until(a.engine, (s) => s.state !== "synced");
    await a.engine.execute(STREAM, account, { deposit: 1 });
    await until(a.engine, (s) => s.state === "synced" && s.confirmedHead === 1);
    expect(running.node.log(STREAM)).toHaveLength(1);
  });

  it("WebSocket: a refused token stops the stream with unauthorized", async () => {
    running = await startNode();
    const a = device(
      createWebSocketTransport({
        url: running.url,
        token: "forged",
        WebSocket: WebSocket as never,
      }),
      "a",
    );
    a.engine.start(STREAM);
    const status = await until(a.engine, (s) => s.state === "error");
    expect(status.lastError?.code).toBe("unauthorized");
  });

  it("HTTP: pushes, pulls and polls to the same result", async () => {
    running = await startNode();
    const http = () => createHttpTransport({ url: running!.url, token: TOKEN, pollMs: 20 });
    const a = device(http(), "a");
    const b = device(http(), "b");
    a.engine.start(STREAM);
    b.engine.start(STREAM);
    await a.engine.execute(STREAM, account, { deposit: 5 });
    await until(a.engine, (s) => s.state === "synced" && s.confirmedHead === 1);
    await until(b.engine, (s) => s.confirmedHead === 1);
    await b.engine.execute(STREAM, account, { withdraw: 5 }, { strict: true });
    await until(b.engine, (s) => s.state === "synced" && s.confirmedHead === 2);
    await until(a.engine, (s) => s.confirmedHead === 2);
    expect(await a.local.readConfirmed(STREAM)).toEqual(running.node.log(STREAM));
  });
});

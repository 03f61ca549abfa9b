// internal: test helpers. A protocol client over real WebSockets inside workerd, and tokens.

import { env, exports } from "cloudflare:workers";
import { createEnvelope, type NewEvent } from "@chronicle/core";
import {
  type ClientFrame,
  parseServerFrame,
  type ServerFrame,
  type StreamAccess,
} from "@chronicle/sync/protocol";
import { signToken } from "../src/auth/jwt.ts";
import type { SyncNodeEnv } from "../src/env.ts";

export const nodeEnv = env as unknown as SyncNodeEnv;
export const origin = "http://node.test";

export function token(
  streams: Record<string, StreamAccess> = { "*": "write" },
  sub = "alice",
  expiresIn = 3600,
): Promise<string> {
  const exp = Math.floor(Date.now() / 1000) + expiresIn;
  return signToken({ sub, streams, exp }, nodeEnv.CHRONICLE_SECRET!);
}

export function fetchNode(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${origin}${path}`, init));
}

/** A node built in the test (createSyncNode with options), running on the test's env. */
export interface TestApp {
  fetch(request: Request, env: SyncNodeEnv): Response | Promise<Response>;
}

export function fetchApp(app: TestApp, path: string, init?: RequestInit): Promise<Response> {
  return Promise.resolve(app.fetch(new Request(`${origin}${path}`, init), nodeEnv));
}

/** Opens a socket through `app` (the token in `?token=`). */
export async function connectApp(
  app: TestApp,
  stream: string,
  tokenValue?: string,
): Promise<NodeSocket> {
  const query = `?token=${encodeURIComponent(tokenValue ?? (await token()))}`;
  const response = await fetchApp(app, `/v1/streams/${stream}/ws${query}`, {
    headers: { Upgrade: "websocket" },
  });
  if (!response.webSocket) {
    throw Object.assign(new Error(`upgrade refused: ${response.status}`), {
      status: response.status,
      body: await response.json(),
    });
  }
  response.webSocket.accept();
  return new NodeSocket(response.webSocket);
}

let streamCounter = 0;
/** A stream id no other test uses. */
export function freshStream(prefix = "board"): string {
  streamCounter += 1;
  return `${prefix}:${Date.now().toString(36)}-${streamCounter}`;
}

export function events(stream: string, count: number, tag = "e"): NewEvent[] {
  return Array.from({ length: count }, (_, index) =>
    createEnvelope(
      stream,
      { type: "card.added", version: 1, data: { tag, index } },
      { actor: "client-says", device: "d1" },
    ),
  );
}

/** A connected socket: send frames, await the frames the node sends back, in order. */
export class NodeSocket {
  readonly received: ServerFrame[] = [];
  readonly raw: string[] = [];
  #cursor = 0;
  #waiters: Array<() => void> = [];
  closed: Promise<CloseEvent>;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : "(binary)";
      this.raw.push(text);
      if (text !== "pong") this.received.push(parseServerFrame(text));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  }

  send(frame: ClientFrame | Record<string, unknown> | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame not yet taken that matches, waiting for it if needed. */
  async next(match: (frame: ServerFrame) => boolean = () => true): Promise<ServerFrame> {
    for (;;) {
      for (let index = this.#cursor; index < this.received.length; index++) {
        const frame = this.received[index]!;
        if (match(frame)) {
          this.received.splice(index, 1);
          return frame;
        }
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends a frame with `req` and awaits the node's answer to it. */
  request(frame: ClientFrame | Record<string, unknown>): Promise<ServerFrame> {
    const req = (frame as { req?: string }).req;
    this.send(frame);
    return this.next((answer) => "req" in answer && answer.req === req);
  }

  /** Hello, then collects events until `head` is reached; returns the welcome. */
  async hello(after = 0): Promise<Extract<ServerFrame, { t: "welcome" }>> {
    this.send({ t: "hello", protocol: 1, after });
    return (await this.next((f) => f.t === "welcome")) as Extract<ServerFrame, { t: "welcome" }>;
  }

  /** Live or catch-up `events` frames until the last position seen reaches `position`. */
  async eventsUntil(position: number): Promise<number[]> {
    const positions: number[] = [];
    while ((positions.at(-1) ?? 0) < position) {
      const frame = await this.next((f) => f.t === "events" && f.req === undefined);
      if (frame.t === "events") positions.push(...frame.events.map((e) => e.position));
    }
    return positions;
  }

  close(): void {
    this.ws.close(1000, "done");
  }
}

let reqCounter = 0;
export const nextReq = () => `r${++reqCounter}`;

/** Opens a socket to a stream; throws with the HTTP status when the upgrade is refused. */
export async function connect(
  stream: string,
  auth?: string | { protocol: string },
): Promise<NodeSocket> {
  const tokenValue = auth ?? (await token());
  const query = typeof tokenValue === "string" ? `?token=${encodeURIComponent(tokenValue)}` : "";
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (typeof tokenValue !== "string") headers["Sec-WebSocket-Protocol"] = tokenValue.protocol;
  const response = await fetchNode(`/v1/streams/${stream}/ws${query}`, { headers });
  if (!response.webSocket) {
    throw Object.assign(new Error(`upgrade refused: ${response.status}`), {
      status: response.status,
      body: await response.json(),
    });
  }
  response.webSocket.accept();
  return new NodeSocket(response.webSocket);
}

export async function pushHttp(
  stream: string,
  body: unknown,
  tokenValue?: string,
): Promise<Response> {
  return fetchNode(`/v1/streams/${stream}/events`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${tokenValue ?? (await token())}`,
      "Content-Type": "application/json",
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function pullHttp(stream: string, query = "", tokenValue?: string) {
  const response = await fetchNode(`/v1/streams/${stream}/events${query}`, {
    headers: { Authorization: `Bearer ${tokenValue ?? (await token())}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Every stored event of a stream, through the public HTTP API (as `alice` unless another token
 * is given: rate limits are per subject).
 */
export async function logOf(stream: string, tokenValue?: string) {
  const all: Array<{ id: string; position: number; recordedAt: number; meta: { actor: string } }> =
    [];
  for (;;) {
    const { body } = await pullHttp(stream, `?after=${all.length}&limit=1000`, tokenValue);
    all.push(...(body.events as typeof all));
    if (!body.more) return all;
  }
}

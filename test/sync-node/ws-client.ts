// internal: test helper. A minimal protocol v1 client over the `ws` package: send frames, await
// the node's answers and live events; keeps the confirmed log it has learned (acks + events).
import { createEnvelope, type NewEvent } from "@chronicle/core";
import {
  type ClientFrame,
  HEARTBEAT,
  parseServerFrame,
  type ServerFrame,
} from "@chronicle/sync/protocol";
import WebSocket from "ws";

export class ProtocolClient {
  readonly frames: ServerFrame[] = [];
  /** position -> event id, from acks of our pushes and events frames from the node. */
  readonly log = new Map<number, string>();
  #waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === HEARTBEAT.pong) return;
      const frame = parseServerFrame(text);
      if (frame.t === "ack") for (const r of frame.results) this.log.set(r.position, r.id);
      if (frame.t === "events") for (const e of frame.events) this.log.set(e.position, e.id);
      this.frames.push(frame);
      for (const wake of this.#waiters) wake();
    });
    // One listener wakes every waiter; one per waiter went past Node's listener limit.
    ws.on("close", () => {
      for (const wake of this.#waiters) wake();
    });
  }

  static async connect(wsUrl: string, stream: string, token: string): Promise<ProtocolClient> {
    const ws = new WebSocket(`${wsUrl}/v1/streams/${stream}/ws?token=${encodeURIComponent(token)}`);
    const client = new ProtocolClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    });
    return client;
  }

  send(frame: ClientFrame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Resolves with the first received frame matching `match` (already received or future). */
  async waitFor(match: (frame: ServerFrame) => boolean): Promise<ServerFrame> {
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      await this.#changed();
    }
  }

  /** Resolves when the confirmed log holds every position 1..head. */
  async waitForLog(head: number): Promise<void> {
    while (!Array.from({ length: head }, (_, i) => i + 1).every((p) => this.log.has(p))) {
      await this.#changed();
    }
  }

  async push(req: string, events: NewEvent[]): Promise<ServerFrame> {
    this.send({ t: "push", req, events });
    return this.waitFor((f) => "req" in f && f.req === req);
  }

  close(): void {
    this.ws.close(1000);
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
    });
  }
}

export function makeEvents(stream: string, count: number, tag: string): NewEvent[] {
  return Array.from({ length: count }, (_, index) =>
    createEnvelope(
      stream,
      { type: "note.added", version: 1, data: { tag, index } },
      { device: tag },
    ),
  );
}

/** The node's whole log for a stream, paged over HTTP. */
export async function readLog(url: string, stream: string, token: string) {
  const events: Array<{ id: string; position: number; meta: { actor: string } }> = [];
  for (;;) {
    const response = await fetch(`${url}/v1/streams/${stream}/events?after=${events.length}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new Error(`pull: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { events: typeof events; head: number; more: boolean };
    events.push(...page.events);
    if (!page.more) return { events, head: page.head };
  }
}

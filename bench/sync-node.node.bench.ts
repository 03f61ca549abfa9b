import { fileURLToPath } from "node:url";
import { createEnvelope } from "@chronicle/core";
import { afterAll, beforeAll, it } from "vitest";
import WebSocket from "ws";
import { type LocalNode, startLocalNode } from "./local-node.ts";
import { percentile, printTable } from "./table.ts";

const config = fileURLToPath(new URL("./sync-node.wrangler.toml", import.meta.url));
let node: LocalNode;
let base = "";
let token = "";

beforeAll(async () => {
  node = await startLocalNode(config);
  ({ base, token } = node);
}, 120_000);

afterAll(async () => {
  await node?.dispose();
});

/** A socket whose incoming text frames can be awaited one by one. */
class Socket {
  readonly #queue: string[] = [];
  readonly #waiting: Array<(text: string) => void> = [];
  onFrame: ((text: string) => void) | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = data.toString();
      if (this.onFrame) return this.onFrame(text);
      const waiter = this.#waiting.shift();
      if (waiter) waiter(text);
      else this.#queue.push(text);
    });
  }
  static async open(path: string): Promise<Socket> {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    return new Socket(ws);
  }
  next(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  async roundTrip(text: string): Promise<number> {
    const start = performance.now();
    this.ws.send(text);
    await this.next();
    return performance.now() - start;
  }
  close(): void {
    this.ws.close();
  }
}

const nodeSocket = async (stream: string) =>
  Socket.open(`/v1/streams/${stream}/ws?token=${encodeURIComponent(token)}`);
const echoSocket = (room: string) => Socket.open(`/bench/echo/${room}`);

let reqCounter = 0;
function pushFrame(stream: string): string {
  const event = createEnvelope(
    stream,
    { type: "card.moved", version: 1, data: { card: "c-17", to: "done", index: reqCounter } },
    { actor: "bench", device: "bench-1" },
  );
  return JSON.stringify({ t: "push", req: `r${++reqCounter}`, events: [event] });
}

interface Run {
  perSecond: number;
  p50: number;
  p95: number;
}

/** Round trips of `sockets`, each doing `perClient` sequential ones, all concurrently. */
async function roundTrips(sockets: Socket[], perClient: number, frame: () => string) {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    sockets.map(async (socket) => {
      for (let i = 0; i < perClient; i++) latencies.push(await socket.roundTrip(frame()));
    }),
  );
  return { latencies, elapsed: performance.now() - start };
}

function summarize(runs: Array<{ latencies: number[]; elapsed: number }>): Run {
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const elapsed = runs.reduce((sum, run) => sum + run.elapsed, 0);
  return {
    perSecond: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

// The machine is shared: node and echo runs alternate in rounds so that load changes hit both.
const rounds = 3;

async function pushCase(clients: number, perClient: number) {
  const stream = `bench:push-${clients}`;
  const nodes = await Promise.all(Array.from({ length: clients }, () => nodeSocket(stream)));
  const echoes = await Promise.all(
    Array.from({ length: clients }, () => echoSocket(`push-${clients}`)),
  );
  // Warm up both (object creation, JIT).
  await roundTrips(nodes, 20, () => pushFrame(stream));
  await roundTrips(echoes, 20, () => pushFrame(stream));
  const nodeRuns = [];
  const echoRuns = [];
  for (let round = 0; round < rounds; round++) {
    echoRuns.push(await roundTrips(echoes, perClient, () => pushFrame(stream)));
    nodeRuns.push(await roundTrips(nodes, perClient, () => pushFrame(stream)));
  }
  for (const socket of [...nodes, ...echoes]) socket.close();
  return { node: summarize(nodeRuns), echo: summarize(echoRuns) };
}

/** One pusher, `subscribers` listeners: delay from send until each listener has the event. */
async function fanOutRun(
  pusher: Socket,
  listeners: Socket[],
  pushes: number,
  frame: () => string,
  delays: number[] = [],
) {
  for (let push = 0; push < pushes; push++) {
    const start = performance.now();
    const arrivals = listeners.map(
      (listener) =>
        new Promise<void>((resolve) => {
          listener.onFrame = () => {
            delays.push(performance.now() - start);
            listener.onFrame = undefined;
            resolve();
          };
        }),
    );
    pusher.ws.send(frame());
    await Promise.all([...arrivals, pusher.next()]);
  }
  return delays;
}

const quantiles = (delays: number[]) => {
  delays.sort((a, b) => a - b);
  return { p50: percentile(delays, 50), p95: percentile(delays, 95) };
};

async function fanOutCase(subscribers: number, pushes: number) {
  const stream = "bench:fanout";
  const pusher = await nodeSocket(stream);
  const listeners = await Promise.all(
    Array.from({ length: subscribers }, () => nodeSocket(stream)),
  );
  for (const listener of listeners) {
    listener.ws.send(JSON.stringify({ t: "hello", protocol: 1, after: 0 }));
    await listener.next(); // welcome (the stream is empty: no catch-up frames)
  }
  const echoPusher = await echoSocket("fanout");
  const echoListeners = await Promise.all(
    Array.from({ length: subscribers }, () => echoSocket("fanout")),
  );
  const echoFrame = () => `b${pushFrame(stream)}`;
  await fanOutRun(pusher, listeners, 10, () => pushFrame(stream));
  await fanOutRun(echoPusher, echoListeners, 10, echoFrame);
  const echoDelays: number[] = [];
  const nodeDelays: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await fanOutRun(echoPusher, echoListeners, pushes / rounds, echoFrame, echoDelays);
    await fanOutRun(pusher, listeners, pushes / rounds, () => pushFrame(stream), nodeDelays);
  }
  for (const socket of [pusher, echoPusher, ...listeners, ...echoListeners]) socket.close();
  return { node: quantiles(nodeDelays), echo: quantiles(echoDelays) };
}

it("sync node vs raw echo Durable Object", async () => {
  const one = await pushCase(1, 400);
  const twenty = await pushCase(20, 40);
  const fan = await fanOutCase(20, 210);
  const row = (name: string, node: Run, echo: Run) => ({
    case: name,
    "node acks/s": Math.round(node.perSecond),
    "echo msgs/s": Math.round(echo.perSecond),
    "throughput ratio": node.perSecond / echo.perSecond,
    "node p50 ms": node.p50,
    "node p95 ms": node.p95,
    "echo p50 ms": echo.p50,
    "echo p95 ms": echo.p95,
    "p50 ratio": node.p50 / echo.p50,
    "p95 ratio": node.p95 / echo.p95,
  });
  printTable("Sync node: push -> ack on one stream (1-event pushes)", [
    row(`1 client, ${rounds}x400 pushes`, one.node, one.echo),
    row(`20 clients, ${rounds}x40 pushes each`, twenty.node, twenty.echo),
  ]);
  printTable("Sync node: fan-out of one push to 20 subscribers (210 pushes)", [
    {
      case: "delay to each subscriber",
      "node p50 ms": fan.node.p50,
      "node p95 ms": fan.node.p95,
      "echo p50 ms": fan.echo.p50,
      "echo p95 ms": fan.echo.p95,
      "p50 ratio": fan.node.p50 / fan.echo.p50,
      "p95 ratio": fan.node.p95 / fan.echo.p95,
    },
  ]);
}, 300_000);

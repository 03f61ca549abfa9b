// A deterministic network between sync engines and a MemoryNode, on virtual time. Frames and
// timers are tasks in one queue; `run` delivers frames first and advances virtual time to the
// next timer only when no frame is waiting, so a seed replays the same schedule exactly.
// Faults (per frame, by probability): drop, duplicate, reorder (swap with the previous frame on
// the same connection), disconnect (close the connection instead of delivering).

import { ChronicleError } from "@chronicle/core";
import { resolveToken, type TokenSource } from "../client/token.ts";
import type {
  Connection,
  ConnectionListener,
  Scheduler,
  SyncTransport,
} from "../client/transport.ts";
import type { WebSocketConstructor } from "../client/websocket-transport.ts";
import type { StreamsResponse } from "../protocol/directory.ts";
import type { ClientFrame, ServerFrame } from "../protocol/frames.ts";
import { parseServerFrame } from "../protocol/parse.ts";
import type { SnapshotsResponse, SnapshotWant } from "../protocol/snapshots.ts";
import type { AcceptOptions, MemoryNode, NodeSocket } from "./memory-node.ts";
import { memoryFetch, memoryWebSocket, type WebCarrier } from "./memory-web.ts";

/** Per-frame fault probabilities (0 to 1; their sum at most 1). @default 0 each */
export interface FaultRates {
  /** The frame is lost. */
  drop?: number;
  /** The frame arrives twice. */
  duplicate?: number;
  /** The frame overtakes the previous one on the same connection. */
  reorder?: number;
  /** The connection is cut instead of the frame arriving. */
  disconnect?: number;
}

interface FrameTask {
  kind: "frame";
  link: Link;
  deliver: () => void | Promise<void>;
}

interface TimerTask {
  kind: "timer";
  id: number;
  due: number;
  callback: () => void;
}

interface Link {
  open: boolean;
  close(error?: unknown): void;
}

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same faults.
 *
 * @example
 * const random = seededRandom(42);
 * random(); // the same number in [0, 1) on every run
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deterministic network on virtual time between sync engines and a MemoryNode, with seeded
 * faults: the same seed replays the same schedule.
 *
 * @example
 * const network = new MemoryNetwork(new MemoryNode(), seed);
 * network.faults = { drop: 0.05, reorder: 0.05 };
 * const engine = createSyncEngine({ local, transport: network.transport(), scheduler: network.scheduler, device: "d1" });
 * await network.run();
 */
export class MemoryNetwork {
  readonly #node: MemoryNode;
  readonly #frames: FrameTask[] = [];
  readonly #timers: TimerTask[] = [];
  readonly #random: () => number;
  #nextTimer = 1;
  #time = 0;
  /** Fault probabilities, changeable between steps. */
  faults: FaultRates = {};
  /** Timers on the network's virtual time: give it to every engine on this network. */
  readonly scheduler: Scheduler;

  constructor(node: MemoryNode, seed = 1) {
    this.#node = node;
    this.#random = seededRandom(seed);
    this.scheduler = {
      setTimeout: (callback, ms) => {
        const timer: TimerTask = {
          kind: "timer",
          id: this.#nextTimer++,
          due: this.#time + Math.max(0, ms),
          callback,
        };
        this.#timers.push(timer);
        return timer.id;
      },
      clearTimeout: (handle) => {
        const index = this.#timers.findIndex((timer) => timer.id === handle);
        if (index >= 0) this.#timers.splice(index, 1);
      },
      random: this.#random,
    };
  }

  /** Virtual milliseconds elapsed. */
  get now(): number {
    return this.#time;
  }

  /**
   * A transport for one device; `online = false` refuses and cuts its connections. `token` is
   * sent with each connection (for a node with `auth`); a function is called for each one.
   */
  transport(options: { token?: TokenSource } = {}): MemoryTransport {
    return new MemoryTransport(this, options.token);
  }

  /** No frame is waiting (timers may be). */
  get quiet(): boolean {
    return this.#frames.length === 0;
  }

  /** When the next timer fires (virtual ms), or Infinity when none is set. */
  get nextTimerDue(): number {
    return this.#timers.reduce((min, timer) => Math.min(min, timer.due), Number.POSITIVE_INFINITY);
  }

  /** Frames and timers waiting. */
  get idle(): boolean {
    return this.#frames.length === 0 && this.#timers.length === 0;
  }

  /**
   * Runs tasks until nothing is left, or `maxSteps` tasks ran, or virtual time would pass
   * `until`. Returns the number of tasks run.
   */
  async run(options: { maxSteps?: number; until?: number } = {}): Promise<number> {
    const maxSteps = options.maxSteps ?? 1_000_000;
    let steps = 0;
    while (steps < maxSteps) {
      const frame = this.#frames.shift();
      if (frame) {
        steps++;
        if (frame.link.open) await frame.deliver();
        continue;
      }
      if (this.#timers.length === 0) break;
      this.#timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const timer = this.#timers[0]!;
      if (options.until !== undefined && timer.due > options.until) break;
      this.#timers.shift();
      this.#time = Math.max(this.#time, timer.due);
      steps++;
      timer.callback();
      // Let the callback's promise chain (e.g. a reconnect) start before the next task.
      await Promise.resolve();
    }
    return steps;
  }

  /** @internal queues a frame with the configured faults. */
  enqueue(link: Link, deliver: () => void | Promise<void>): void {
    const { drop = 0, duplicate = 0, reorder = 0, disconnect = 0 } = this.faults;
    const roll = this.#random();
    if (roll < disconnect) {
      this.#frames.push({
        kind: "frame",
        link: { open: true, close() {} },
        deliver: () => link.close(new Error("network: connection cut")),
      });
      return;
    }
    if (roll < disconnect + drop) return;
    const task: FrameTask = { kind: "frame", link, deliver };
    if (roll < disconnect + drop + duplicate) this.#frames.push(task, task);
    else if (roll < disconnect + drop + duplicate + reorder) {
      let previous = -1;
      for (let i = this.#frames.length - 1; i >= 0; i--) {
        if (this.#frames[i]!.link === link) {
          previous = i;
          break;
        }
      }
      if (previous >= 0) this.#frames.splice(previous, 0, task);
      else this.#frames.push(task);
    } else this.#frames.push(task);
  }

  /** @internal schedules a task with no faults (connection events). */
  later(link: Link, deliver: () => void | Promise<void>): void {
    this.#frames.push({ kind: "frame", link, deliver });
  }

  /** @internal answers a snapshot request (a JSON copy, as over the wire). */
  snapshots(stream: string, wants: readonly SnapshotWant[], token?: string): SnapshotsResponse {
    const answer = this.#node.snapshots(stream, wants, token === undefined ? {} : { token });
    return JSON.parse(JSON.stringify(answer)) as SnapshotsResponse;
  }

  /** @internal */
  accept(
    stream: string,
    send: (frame: ServerFrame) => void,
    options: AcceptOptions = {},
  ): NodeSocket {
    return this.#node.accept(stream, send, options);
  }

  /** @internal `GET /v1/watch` (see `MemoryNode.watch`). */
  watch(
    query: Record<string, string | undefined>,
    send: (text: string) => void,
    options: AcceptOptions = {},
  ): NodeSocket {
    return this.#node.watch(query, send, options);
  }

  /** @internal `GET /v1/streams` (see `MemoryNode.listStreams`). */
  listStreams(
    query: Record<string, string | undefined>,
    options: { token?: string } = {},
  ): StreamsResponse {
    return this.#node.listStreams(query, options);
  }
}

/** One device's transport on a MemoryNetwork (from `network.transport()`). */
export class MemoryTransport implements SyncTransport {
  readonly #network: MemoryNetwork;
  readonly #links = new Set<Link>();
  readonly #token: TokenSource | undefined;
  #online = true;
  /**
   * A WebSocket class to the node over this network, for the routes no transport method
   * carries: give it to `followStreams({ WebSocket })`, whose watch socket
   * (`GET /v1/watch?prefix=&token=`) reaches `MemoryNode.watch`. Its frames cross the network
   * like the transport's (faults included); going offline cuts it.
   */
  readonly WebSocket: WebSocketConstructor;
  /**
   * A `fetch` to the node over this network: `GET /v1/streams?prefix=&after=&limit=` (token in
   * `Authorization: Bearer`) reaches `MemoryNode.listStreams`, errors as the node's HTTP errors.
   * It rejects like a network failure while the device is offline.
   */
  readonly fetch: typeof fetch;

  constructor(network: MemoryNetwork, token?: TokenSource) {
    this.#network = network;
    this.#token = token;
    const links = this.#links;
    const online = () => this.#online;
    const carrier: WebCarrier = {
      frame: (link, step) => network.enqueue(link, step),
      later: (link, step) => network.later(link, step),
      get online() {
        return online();
      },
      hold(link) {
        links.add(link);
        return () => links.delete(link);
      },
    };
    this.WebSocket = memoryWebSocket(network, carrier);
    this.fetch = memoryFetch(network, carrier);
  }

  /**
   * Whether the device is online; setting it to `false` cuts its connections and refuses new
   * ones.
   */
  get online(): boolean {
    return this.#online;
  }

  /** Going offline cuts the device's connections; going online lets it connect again. */
  set online(value: boolean) {
    this.#online = value;
    if (!value) for (const link of [...this.#links]) link.close(new Error("network: offline"));
  }

  /** The node's snapshots, when the device is online (`offline` otherwise). */
  async snapshots(stream: string, wants: readonly SnapshotWant[]): Promise<SnapshotsResponse> {
    if (!this.#online) throw new ChronicleError("offline", "network: offline");
    const token = await resolveToken(this.#token);
    return this.#network.snapshots(stream, wants, token);
  }

  connect(stream: string, listener: ConnectionListener): Connection {
    const network = this.#network;
    const links = this.#links;
    let socket: NodeSocket | undefined;
    const link: Link = {
      open: true,
      close(error) {
        if (!link.open) return;
        link.open = false;
        links.delete(link);
        socket?.close();
        network.later({ open: true, close() {} }, () => listener.onClose(error));
      },
    };
    if (!this.#online) {
      link.open = false;
      network.later({ open: true, close() {} }, () =>
        listener.onClose(new Error("network: offline")),
      );
      return { send() {}, close() {} };
    }
    links.add(link);
    const token = this.#token;
    // The token is resolved and checked as the connection opens (a refused one closes it, as a
    // refused upgrade would); the node closing it (4401) comes after the frames it sent.
    network.later(link, async () => {
      try {
        const options: AcceptOptions = {
          onClose: (code, reason) =>
            network.later(link, () => link.close(closeError(code, reason))),
        };
        const resolved = await resolveToken(token);
        if (resolved !== undefined) options.token = resolved;
        if (!link.open) return;
        socket = network.accept(
          stream,
          (frame) => {
            // Server frames cross as text and are parsed like on a real wire.
            const text = JSON.stringify(frame);
            network.enqueue(link, () => listener.onFrame(parseServerFrame(text)));
          },
          options,
        );
      } catch (error) {
        return link.close(error);
      }
      listener.onOpen();
    });
    return {
      send(frame: ClientFrame) {
        if (!link.open) return;
        const text = JSON.stringify(frame);
        network.enqueue(link, () => socket?.receive(text));
      },
      close() {
        if (!link.open) return;
        link.open = false;
        links.delete(link);
        socket?.close();
      },
    };
  }
}

// The node's close codes as the WebSocket transport reads them.
function closeError(code: number, reason: string): ChronicleError | undefined {
  if (code === 4401) return new ChronicleError("unauthorized", reason);
  if (code === 4403) return new ChronicleError("forbidden", reason);
  return undefined;
}

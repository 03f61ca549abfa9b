// An in-memory sync node that follows docs/architecture.md's node rules, for fast client tests:
// 1. gapless positions per stream; a batch is contiguous;
// 2. a push is stored whole or not at all (parsing happens before any write);
// 3. idempotent by id: stored ids are acked with their positions, only new ones are stored;
// 4. "durable before ack" is trivially true in memory;
// 5. live events go to every other connection, in position order;
// 6. each stream has a random epoch; `resetStream` models a log recreated from scratch;
// 7. limits come from the protocol module (`parseClientFrame`).
import { type ConfirmedEvent, toChronicleError, uuidv7 } from "@chronicle/core";
import { toWireConfirmed } from "../client/wire.ts";
import type { ClientFrame, ServerFrame, WireEvent } from "../protocol/frames.ts";
import { defaultLimits, type ProtocolLimits } from "../protocol/limits.ts";
import { checkEventsStream, parseClientFrame } from "../protocol/parse.ts";

interface NodeStream {
  epoch: string;
  events: ConfirmedEvent[];
  positions: Map<string, number>;
}

/** The node's side of one connection: frames in as text, frames out through `send`. */
export interface NodeSocket {
  /** Handles one client frame, as text. */
  receive(text: string): void;
  /** Closes the node's side: no more frames go out. */
  close(): void;
}

/** What `new MemoryNode(options)` takes. */
export interface MemoryNodeOptions {
  /** The limits frames are parsed with. @default defaultLimits */
  limits?: ProtocolLimits;
  /** Clock for `recordedAt`. @default Date.now */
  now?: () => number;
  /** The authenticated subject stamped on `meta.actor`. @default "user" */
  actor?: string;
}

/**
 * An in-memory sync node that follows the node's rules (gapless positions, whole pushes,
 * idempotency by id, epochs, the protocol's limits), for fast client tests.
 *
 * @example
 * const node = new MemoryNode({ actor: "alice" });
 * const engine = createSyncEngine({ local, transport: createLoopbackTransport(node), device: "d1" });
 * expect(node.log("board:1")).toHaveLength(1);
 */
export class MemoryNode {
  readonly #streams = new Map<string, NodeStream>();
  readonly #sockets = new Map<string, Set<(frame: ServerFrame) => void>>();
  readonly #limits: ProtocolLimits;
  readonly #now: () => number;
  readonly #actor: string;
  #lastRecordedAt = 0;

  constructor(options: MemoryNodeOptions = {}) {
    this.#limits = options.limits ?? defaultLimits;
    this.#now = options.now ?? Date.now;
    this.#actor = options.actor ?? "user";
  }

  /** The node's log of a stream (what every device must end up holding). */
  log(stream: string): ConfirmedEvent[] {
    return structuredClone(this.#streams.get(stream)?.events ?? []);
  }

  /** The stream's epoch (a stream gets one on first use). */
  epoch(stream: string): string {
    return this.#stream(stream).epoch;
  }

  /** Models a node whose log was recreated: new epoch, no events. */
  resetStream(stream: string): void {
    this.#streams.set(stream, { epoch: uuidv7(), events: [], positions: new Map() });
  }

  /** Opens the node side of a connection; `send` delivers frames to the client. */
  accept(stream: string, send: (frame: ServerFrame) => void): NodeSocket {
    const sockets = this.#sockets.get(stream) ?? new Set();
    this.#sockets.set(stream, sockets);
    let live = false;
    const deliver = (frame: ServerFrame) => {
      if (live) send(frame);
    };
    return {
      receive: (text) => {
        let frame: ClientFrame;
        try {
          frame = parseClientFrame(text, this.#limits);
        } catch (error) {
          const coded = toChronicleError(error);
          const req = typeof coded.details.req === "string" ? { req: coded.details.req } : {};
          send({ t: "error", ...req, code: coded.code, message: coded.message });
          return;
        }
        const reply = this.#handle(stream, frame, deliver);
        if (frame.t === "hello" && !live) {
          live = true;
          sockets.add(deliver);
        }
        for (const out of reply) send(out);
      },
      close: () => {
        sockets.delete(deliver);
      },
    };
  }

  #stream(stream: string): NodeStream {
    let state = this.#streams.get(stream);
    if (!state) {
      state = { epoch: uuidv7(), events: [], positions: new Map() };
      this.#streams.set(stream, state);
    }
    return state;
  }

  #handle(stream: string, frame: ClientFrame, self: (frame: ServerFrame) => void): ServerFrame[] {
    const state = this.#stream(stream);
    switch (frame.t) {
      case "hello": {
        const out: ServerFrame[] = [
          { t: "welcome", epoch: state.epoch, head: state.events.length },
        ];
        let after = Math.min(frame.after, state.events.length);
        while (after < state.events.length) {
          const page = state.events.slice(after, after + this.#limits.defaultPullLimit);
          after += page.length;
          out.push({
            t: "events",
            events: toWireConfirmed(page),
            head: state.events.length,
            more: after < state.events.length,
          });
        }
        return out;
      }
      case "pull": {
        const limit = Math.min(
          frame.limit ?? this.#limits.defaultPullLimit,
          this.#limits.maxPullLimit,
        );
        const page = state.events.slice(frame.after, frame.after + limit);
        return [
          {
            t: "events",
            req: frame.req,
            events: toWireConfirmed(page),
            head: state.events.length,
            more: frame.after + page.length < state.events.length,
          },
        ];
      }
      case "push": {
        try {
          checkEventsStream(stream, frame.events);
        } catch (error) {
          const coded = toChronicleError(error);
          return [{ t: "error", req: frame.req, code: coded.code, message: coded.message }];
        }
        const stored = frame.events.map((event) => state.positions.get(event.id));
        const allStored = stored.every((position) => position !== undefined);
        if (!allStored && frame.expected !== undefined && frame.expected !== state.events.length) {
          return [{ t: "conflict", req: frame.req, head: state.events.length }];
        }
        const recordedAt = Math.max(this.#now(), this.#lastRecordedAt);
        this.#lastRecordedAt = recordedAt;
        const fresh: ConfirmedEvent[] = [];
        const results = frame.events.map((event, index) => {
          const known = stored[index];
          if (known !== undefined) {
            const storedEvent = state.events[known - 1]!;
            return {
              id: event.id,
              position: known,
              recordedAt: storedEvent.recordedAt,
              actor: storedEvent.meta.actor,
            };
          }
          const confirmed = this.#confirm(stream, event, state.events.length + 1, recordedAt);
          state.events.push(confirmed);
          state.positions.set(confirmed.id, confirmed.position);
          fresh.push(confirmed);
          return { id: event.id, position: confirmed.position, recordedAt, actor: this.#actor };
        });
        if (fresh.length > 0) {
          const frameOut: ServerFrame = {
            t: "events",
            events: toWireConfirmed(fresh),
            head: state.events.length,
          };
          for (const other of this.#sockets.get(stream) ?? [])
            if (other !== self) other(structuredClone(frameOut));
        }
        return [{ t: "ack", req: frame.req, results }];
      }
    }
  }

  #confirm(stream: string, event: WireEvent, position: number, recordedAt: number): ConfirmedEvent {
    // Node-owned fields are overwritten, never trusted.
    return structuredClone({
      ...event,
      stream,
      meta: { ...event.meta, actor: this.#actor },
      position,
      recordedAt,
    }) as ConfirmedEvent;
  }
}

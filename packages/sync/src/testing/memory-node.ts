// An in-memory sync node that follows docs/architecture.md's node rules, for fast client tests:
// 1. gapless positions per stream; a batch is contiguous;
// 2. a push is stored whole or not at all (parsing happens before any write);
// 3. idempotent by id: stored ids are acked with their positions, only new ones are stored;
// 4. "durable before ack" is trivially true in memory;
// 5. live events go to every other connection, in position order;
// 6. each stream has a random epoch; `resetStream` models a log recreated from scratch;
// 7. limits come from the protocol module (`parseClientFrame`); error frames carry the
//    error's details (`path`, `id`, `position`, `limit`) as the node's do; a stored id pushed
//    with other content is `id-conflict`;
// 8. with `auth`, a connection's token is checked when it opens (refused: `unauthorized`) and a
//    connection does not outlive it: a frame received at or past its expiry, or the expiry
//    itself (a timer on `scheduler`), gets an `unauthorized` error frame and close code 4401.
//    Nothing is delivered to it past its expiry;
// 9. a caller's `streams` grants are the token's (memory-access.ts): a stream connection or
//    snapshot request needs read access (refused: `forbidden`), a push write access (an error
//    frame `forbidden`);
// 10. the stream directory (memory-directory.ts): `listStreams` (`GET /v1/streams`) and `watch`
//    (`GET /v1/watch`) check the token, then parse the query with the protocol's schemas
//    (`validation`), then the grants under the prefix (`forbidden` when none may read);
// 11. snapshots are pruned as the node's (memory-snapshots.ts): each save keeps the newest
//    `KEPT_SNAPSHOTS` states of the fold's version just saved and drops its other versions.
import { ChronicleError, type ConfirmedEvent, toChronicleError, uuidv7 } from "@chronicle/core";
import { sameEvent } from "../client/outbox.ts";
import type { Scheduler } from "../client/transport.ts";
import { toWireConfirmed } from "../client/wire.ts";
import type { StreamAccess } from "../protocol/access.ts";
import { parseStreamsQuery, parseWatchQuery, type StreamsResponse } from "../protocol/directory.ts";
import type { ClientFrame, ServerFrame, WireEvent } from "../protocol/frames.ts";
import { defaultLimits, HEARTBEAT, type ProtocolLimits } from "../protocol/limits.ts";
import { checkEventsStream, parseClientFrame } from "../protocol/parse.ts";
import {
  type SnapshotDefinitions,
  type SnapshotsResponse,
  type SnapshotWant,
  serveSnapshots,
} from "../protocol/snapshots.ts";
import { accessTo, readableUnder, startLifetime } from "./memory-access.ts";
import { MemoryDirectory } from "./memory-directory.ts";
import { MemorySnapshots } from "./memory-snapshots.ts";

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

/** How a transport opens a connection to a MemoryNode (see `MemoryNode.accept`). */
export interface AcceptOptions {
  /** The connection's bearer token (checked by `auth`). */
  token?: string;
  /** The node closes the connection (4401 when its token expired). */
  onClose?: (code: number, reason: string) => void;
}

/** What `auth` learned from a token: who, and until when (ms on the node's `now` clock). */
export interface MemoryNodeCaller {
  /** Stamped on `meta.actor` of the events the connection pushes. @default the node's `actor` */
  sub?: string;
  /** The connection ends at this instant. @default never */
  expiresAt?: number;
  /**
   * The token's grants, as the node's `streams` claim: patterns (exact ids, or ending in `*`)
   * to `read` or `write` (rule 9). @default every stream, write
   */
  streams?: Record<string, StreamAccess>;
}

/** What `new MemoryNode(options)` takes. */
export interface MemoryNodeOptions {
  /** The limits frames are parsed with. @default defaultLimits */
  limits?: ProtocolLimits;
  /** Clock for `recordedAt` and token expiry (ms). @default Date.now */
  now?: () => number;
  /** The authenticated subject stamped on `meta.actor` (a caller's `sub` wins). @default "user" */
  actor?: string;
  /**
   * Checks a connection's token: the caller, or undefined to refuse it (`unauthorized`).
   * Without it every connection is accepted and never expires.
   *
   * @example
   * // tokens "t:<expiresAt>", valid until then on the network's virtual clock
   * auth: (token) => (token?.startsWith("t:") ? { expiresAt: Number(token.slice(2)) } : undefined),
   */
  auth?: (token: string | undefined) => MemoryNodeCaller | undefined;
  /**
   * Timers that close connections at their token's expiry (`MemoryNetwork.scheduler` in
   * tests). @default real timers
   */
  scheduler?: Pick<Scheduler, "setTimeout" | "clearTimeout">;
  /**
   * The app's definitions it keeps snapshots of for new devices, as `createSyncNode({ snapshots
   * })` (the same rule: `serveSnapshots`). @default none
   */
  snapshots?: SnapshotDefinitions;
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
  readonly #auth: MemoryNodeOptions["auth"];
  /** The clock and timers of token expiry (rule 8). */
  readonly #clock: { now: () => number; scheduler: Pick<Scheduler, "setTimeout" | "clearTimeout"> };
  #lastRecordedAt = 0;
  #snapshotDefinitions: SnapshotDefinitions;
  readonly #snapshots = new MemorySnapshots();
  readonly #directory: MemoryDirectory;

  constructor(options: MemoryNodeOptions = {}) {
    this.#limits = options.limits ?? defaultLimits;
    this.#now = options.now ?? Date.now;
    this.#actor = options.actor ?? "user";
    this.#auth = options.auth;
    this.#snapshotDefinitions = options.snapshots ?? {};
    this.#clock = {
      now: this.#now,
      scheduler: options.scheduler ?? {
        setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
        clearTimeout: (handle) =>
          globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
      },
    };
    this.#directory = new MemoryDirectory(this.#limits.maxFrameBytes);
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

  /**
   * Models a redeploy of the node with other definitions (a fold's new version): the states it
   * stored stay until the fold's next save, which drops the fold's other versions (rule 11).
   *
   * @example
   * node.redeploy({ snapshots: { projections: [ledgerV2], every: 100 } });
   */
  redeploy(options: Pick<MemoryNodeOptions, "snapshots">): void {
    this.#snapshotDefinitions = options.snapshots ?? {};
  }

  /**
   * `GET /v1/streams/:stream/snapshots`: the latest states of `wants`, computed lazily and kept
   * (as the node does, pruned by rule 11). With `auth`, a refused token is `unauthorized`, a
   * stream the token may not read `forbidden`.
   */
  snapshots(
    stream: string,
    wants: readonly SnapshotWant[],
    options: { token?: string; maxBytes?: number } = {},
  ): SnapshotsResponse {
    const caller = this.#caller(options.token);
    accessTo(caller, caller.sub ?? this.#actor, stream, "read");
    const log = this.#stream(stream);
    const answer = serveSnapshots(
      this.#snapshots.source(stream, log.events),
      this.#snapshotDefinitions,
      wants,
      { maxBytes: options.maxBytes ?? this.#limits.maxFrameBytes - 32_768 },
    );
    return { epoch: log.epoch, ...answer };
  }

  /** How many states the node keeps for a stream (tests). */
  snapshotCount(stream: string): number {
    return this.#snapshots.count(stream);
  }

  /**
   * The states the node keeps of one fold of a stream, oldest first (tests): which version
   * folded each, and where it stands.
   */
  keptSnapshots(
    stream: string,
    fold: Pick<SnapshotWant, "kind" | "name">,
  ): {
    /** The definition version that folded the state. */
    version: number;
    /** The position the state stands at. */
    position: number;
  }[] {
    return this.#snapshots.kept(stream, fold);
  }

  /**
   * `GET /v1/streams?prefix=&after=&limit=`: one page of the streams under the prefix the
   * token may read, in stream id order (rule 10). The query's values are strings, as in a URL.
   *
   * @example
   * const page = node.listStreams({ prefix: "board:", limit: "50" }, { token });
   * // { streams: [{ stream: "board:1", head: 3, epoch }], next?: "board:1" }
   */
  listStreams(
    query: Record<string, string | undefined>,
    options: {
      /** The bearer token (checked by `auth`). */
      token?: string;
    } = {},
  ): StreamsResponse {
    const caller = this.#caller(options.token);
    const parsed = parseStreamsQuery(query);
    const grants = readableUnder(caller, caller.sub ?? this.#actor, parsed.prefix);
    return this.#directory.list(parsed, grants);
  }

  /**
   * `GET /v1/watch?prefix=`: opens the node side of a watch socket (rule 10). `send` gets the
   * node's frames as text: the current heads at once, then the heads of streams that move, and
   * `pong` for a `ping`. A refused upgrade throws its coded error (`unauthorized`, `validation`,
   * `forbidden`); the socket ends at the token's expiry like a stream's (rule 8).
   *
   * @example
   * const socket = node.watch({ prefix: "board:" }, (text) => frames.push(JSON.parse(text)));
   */
  watch(
    query: Record<string, string | undefined>,
    send: (text: string) => void,
    options: AcceptOptions = {},
  ): NodeSocket {
    const caller = this.#caller(options.token);
    const { prefix } = parseWatchQuery(query);
    const grants = readableUnder(caller, caller.sub ?? this.#actor, prefix);
    let unwatch = () => {};
    const lifetime = startLifetime(
      caller,
      this.#clock,
      (frame) => send(JSON.stringify(frame)),
      options,
      () => unwatch(),
    );
    unwatch = this.#directory.watch({
      prefix,
      grants,
      send: (text) => {
        if (!lifetime.open) return;
        if (lifetime.expired()) return lifetime.expire();
        send(text);
      },
    });
    return {
      receive: (text) => {
        if (!lifetime.open) return;
        // The runtime answers heartbeats, even past the token's expiry.
        if (text === HEARTBEAT.ping) return send(HEARTBEAT.pong);
        if (lifetime.expired()) return lifetime.expire();
        const refusal = new ChronicleError("protocol", "a watch socket takes no frames but 'ping'");
        send(JSON.stringify(errorFrame(refusal, undefined, {})));
      },
      close: lifetime.close,
    };
  }

  /**
   * Opens the node side of a connection; `send` delivers frames to the client. With `auth`, a
   * refused token throws `unauthorized` (a refused upgrade) and the connection ends at the
   * token's expiry (rule 8).
   */
  accept(
    stream: string,
    send: (frame: ServerFrame) => void,
    options: AcceptOptions = {},
  ): NodeSocket {
    const caller = this.#caller(options.token);
    const actor = caller.sub ?? this.#actor;
    const access = accessTo(caller, actor, stream, "read");
    const sockets = this.#sockets.get(stream) ?? new Set();
    this.#sockets.set(stream, sockets);
    let live = false;
    const lifetime = startLifetime(caller, this.#clock, send, options, () =>
      sockets.delete(deliver),
    );
    const { expired, expire } = lifetime;
    const deliver = (frame: ServerFrame) => {
      if (!live || !lifetime.open) return;
      if (expired()) return expire();
      send(frame);
    };
    return {
      receive: (text) => {
        if (!lifetime.open) return;
        let frame: ClientFrame;
        try {
          frame = parseClientFrame(text, this.#limits);
        } catch (error) {
          const coded = toChronicleError(error);
          const { req, ...details } = coded.details;
          const named = typeof req === "string" ? req : undefined;
          if (expired()) return expire(named);
          send(errorFrame(coded, named, details));
          return;
        }
        if (expired()) return expire(frame.t === "hello" ? undefined : frame.req);
        const reply =
          frame.t === "push" && access !== "write"
            ? [
                errorFrame(
                  new ChronicleError("forbidden", `${actor} may not write ${stream}`),
                  frame.req,
                  {},
                ),
              ]
            : this.#handle(stream, frame, deliver, actor);
        if (frame.t === "hello" && !live) {
          live = true;
          sockets.add(deliver);
        }
        for (const out of reply) send(out);
      },
      close: lifetime.close,
    };
  }

  /** The caller a token stands for (`unauthorized` when `auth` refuses it or it expired). */
  #caller(token: string | undefined): MemoryNodeCaller {
    const caller = this.#auth ? this.#auth(token) : {};
    if (!caller) throw new ChronicleError("unauthorized", "the node refused the token (401)");
    if (caller.expiresAt !== undefined && this.#now() >= caller.expiresAt) {
      throw new ChronicleError("unauthorized", "the token has expired (401)");
    }
    return caller;
  }

  #stream(stream: string): NodeStream {
    let state = this.#streams.get(stream);
    if (!state) {
      state = { epoch: uuidv7(), events: [], positions: new Map() };
      this.#streams.set(stream, state);
    }
    return state;
  }

  #handle(
    stream: string,
    frame: ClientFrame,
    self: (frame: ServerFrame) => void,
    actor: string,
  ): ServerFrame[] {
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
          const { req: _req, ...details } = coded.details;
          return [errorFrame(coded, frame.req, details)];
        }
        const stored = frame.events.map((event) => state.positions.get(event.id));
        // A stored id pushed with other content refuses the whole push (rule 7).
        for (const [index, position] of stored.entries()) {
          if (position === undefined) continue;
          const event = frame.events[index]!;
          if (sameEvent(event as ConfirmedEvent, state.events[position - 1]!)) continue;
          const conflict = new ChronicleError(
            "id-conflict",
            `events.${index}.id ${event.id} is stored at position ${position} with other content; an id names one event`,
          );
          const details = { path: `events.${index}.id`, id: event.id, position };
          return [errorFrame(conflict, frame.req, details)];
        }
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
          const position = state.events.length + 1;
          const confirmed = this.#confirm(stream, event, position, recordedAt, actor);
          state.events.push(confirmed);
          state.positions.set(confirmed.id, confirmed.position);
          fresh.push(confirmed);
          return { id: event.id, position: confirmed.position, recordedAt, actor };
        });
        if (fresh.length > 0) {
          const frameOut: ServerFrame = {
            t: "events",
            events: toWireConfirmed(fresh),
            head: state.events.length,
          };
          for (const other of this.#sockets.get(stream) ?? [])
            if (other !== self) other(structuredClone(frameOut));
          this.#directory.notice(stream, state.events.length, state.epoch);
        }
        return [{ t: "ack", req: frame.req, results }];
      }
    }
  }

  #confirm(
    stream: string,
    event: WireEvent,
    position: number,
    recordedAt: number,
    actor: string,
  ): ConfirmedEvent {
    // Node-owned fields are overwritten, never trusted.
    return structuredClone({
      ...event,
      stream,
      meta: { ...event.meta, actor },
      position,
      recordedAt,
    }) as ConfirmedEvent;
  }
}

/** A coded error as an `error` frame, with its details when it has any. */
function errorFrame(
  error: ChronicleError,
  req: string | undefined,
  details: Record<string, unknown>,
): ServerFrame {
  return {
    t: "error",
    ...(req ? { req } : {}),
    code: error.code,
    message: error.message,
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
}

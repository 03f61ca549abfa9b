// Node snapshots for new devices (docs/architecture.md, "Snapshots for new devices"): the query a
// client sends (`GET /v1/streams/:stream/snapshots?decider=board:3&projection=cards:1`), the
// answer's schema, parsing with coded errors, and the one rule both the sync node and MemoryNode
// follow to compute and serve them (`serveSnapshots`).
// - A snapshot is served only for the exact definition version asked for; anything else is
//   listed as unavailable with a reason, and the client falls back to the full replay.
// - Every snapshot of one answer is at the same position: the highest multiple of `every` at or
//   below the head (a device starts its log there, with every state it needs).
// - A state is computed lazily, on the first request that needs it, from the nearest stored
//   state of the same fold and version below it (or the first event), then stored.
import {
  ChronicleError,
  type ConfirmedEvent,
  type Foldable,
  foldEvents,
  initialStateOf,
} from "@chronicle/core";
import { z } from "zod";
import { byteLength } from "./limits.ts";
import { validationError } from "./parse.ts";

/** The folds a snapshot may be of. */
export type SnapshotKind = "decider" | "projection";

/** One state a client asks for: a decider's or projection's name and exact version. */
export interface SnapshotWant {
  /** Which kind of fold. */
  kind: SnapshotKind;
  /** The definition's name. */
  name: string;
  /** The definition's version: only a state folded by exactly this version is served. */
  version: number;
}

/** At most this many states in one request. */
export const MAX_SNAPSHOT_WANTS = 64;

/**
 * States a node keeps per fold and definition version: each save keeps the newest this many of
 * the version it saved (the next state is folded from the newest) and drops the fold's other
 * versions (the node serves only its definitions' current ones).
 */
export const KEPT_SNAPSHOTS = 3;

const nameSchema = z.string().min(1).max(128);
const wantSchema = z.object({
  kind: z.enum(["decider", "projection"]),
  name: nameSchema,
  version: z.number().int().min(1),
});

/** Why the node did not serve a state it was asked for. */
export const unavailableReasons = ["none-yet", "unknown", "version", "too-large"] as const;

/** Why the node did not serve a state. */
export type UnavailableReason = (typeof unavailableReasons)[number];

/** A state the node served. */
export interface ServedSnapshot extends SnapshotWant {
  /** The fold's state at the answer's `position`. */
  state: unknown;
}

/** A state the node did not serve: the client replays the log instead. */
export interface UnavailableSnapshot extends SnapshotWant {
  /** `none-yet` (the stream is shorter than `every`), `unknown` (no such fold on the node), `version` (the node folds another version), `too-large`. */
  reason: UnavailableReason;
}

/** The answer of `GET /v1/streams/:stream/snapshots`. */
export interface SnapshotsResponse {
  /** The stream log's epoch: the snapshots belong to this log. */
  epoch: string;
  /** The stream's head when answered. */
  head: number;
  /** Where every served state stands (0 when none is served). */
  position: number;
  /** The states served, each exactly at `position`. */
  snapshots: ServedSnapshot[];
  /** The states not served, and why. */
  unavailable: UnavailableSnapshot[];
}

/** The schema of {@link SnapshotsResponse}. */
export const snapshotsResponse: z.ZodType<SnapshotsResponse> = z.strictObject({
  /** The stream log's epoch: the snapshots belong to this log. */
  epoch: z.string().min(1),
  /** The stream's head when answered. */
  head: z.number().int().min(0),
  /** Where every served state stands (0 when none is served). */
  position: z.number().int().min(0),
  /** The states served, each exactly at `position`. */
  snapshots: z.array(wantSchema.extend({ state: z.unknown() })),
  /** The states not served, and why. */
  unavailable: z.array(wantSchema.extend({ reason: z.enum(unavailableReasons) })),
});

/**
 * The query string for the states a client wants (without `?`).
 *
 * @example
 * snapshotQueryString([{ kind: "decider", name: "board", version: 3 }]); // "decider=board%3A3"
 */
export function snapshotQueryString(wants: readonly SnapshotWant[]): string {
  const query = new URLSearchParams();
  for (const want of wants) query.append(want.kind, `${want.name}:${want.version}`);
  return query.toString();
}

/**
 * Reads the query of `GET /v1/streams/:stream/snapshots` (each parameter as the list of its
 * values): `decider` and `projection`, each `name:version`, repeated. Anything else, none at
 * all, more than {@link MAX_SNAPSHOT_WANTS}, or a malformed value is `validation` with the
 * parameter in `details.path`.
 *
 * @example
 * parseSnapshotQuery({ decider: ["board:3"], projection: ["cards:1"] });
 */
export function parseSnapshotQuery(
  query: Record<string, string | readonly string[] | undefined>,
): SnapshotWant[] {
  const wants: SnapshotWant[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    if (key !== "decider" && key !== "projection") {
      throw new ChronicleError("validation", `unknown query parameter "${key}"`, {
        details: { path: key },
      });
    }
    for (const value of typeof raw === "string" ? [raw] : raw) {
      const colon = value.lastIndexOf(":");
      const version = colon < 0 ? Number.NaN : Number(value.slice(colon + 1));
      const parsed = wantSchema.safeParse({
        kind: key,
        name: colon < 0 ? value : value.slice(0, colon),
        version: /^\d+$/.test(value.slice(colon + 1)) ? version : Number.NaN,
      });
      if (!parsed.success) {
        throw new ChronicleError(
          "validation",
          `${key}: expected name:version (a version >= 1), got "${value.slice(0, 140)}"`,
          { details: { path: key } },
        );
      }
      wants.push(parsed.data);
    }
  }
  if (wants.length === 0) {
    throw new ChronicleError("validation", "name at least one decider or projection", {
      details: { path: "decider" },
    });
  }
  if (wants.length > MAX_SNAPSHOT_WANTS) {
    throw new ChronicleError(
      "validation",
      `at most ${MAX_SNAPSHOT_WANTS} snapshots per request, got ${wants.length}`,
      { details: { path: "decider", limit: MAX_SNAPSHOT_WANTS } },
    );
  }
  return wants;
}

/**
 * Parses the node's answer on the client: anything that is not a valid answer is `protocol`.
 *
 * @example
 * const answer = parseSnapshotsResponse(await response.text());
 */
export function parseSnapshotsResponse(text: string): SnapshotsResponse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ChronicleError("protocol", "the snapshots answer is not JSON");
  }
  const parsed = snapshotsResponse.safeParse(value);
  if (!parsed.success) {
    const error = validationError(parsed.error, "snapshots answer");
    throw new ChronicleError("protocol", error.message, { details: error.details });
  }
  return parsed.data;
}

/** The app's definitions a node keeps snapshots of, and how often. */
export interface SnapshotDefinitions {
  /** Deciders whose state new devices start from. @default [] */
  deciders?: readonly Foldable[];
  /** Stream projections whose state new devices start from (prefix projections are ignored). @default [] */
  projections?: readonly SnapshotProjection[];
  /** States are taken at multiples of this position. @default 1000 */
  every?: number;
}

/** A projection a node may keep snapshots of. */
export interface SnapshotProjection extends Foldable {
  /** Set on a cross-stream projection, which a stream's snapshots cannot hold. */
  readonly prefix?: string | undefined;
}

/** A state a node stored, at its position. */
export interface StoredSnapshot {
  /** The position the state stands at. */
  position: number;
  /** The fold's state there. */
  state: unknown;
}

/** Where `serveSnapshots` reads a stream's log and keeps the states it computed. */
export interface SnapshotSource {
  /** The stream's head. */
  readonly head: number;
  /** Events after `after`, in order, at most `limit` (fewer only at the head). */
  read(after: number, limit: number): readonly ConfirmedEvent[];
  /** The stored state of this fold and version with the highest position at or below `position`. */
  nearest(want: SnapshotWant, position: number): StoredSnapshot | undefined;
  /** Stores a computed state (its JSON text). */
  save(want: SnapshotWant, position: number, json: string): void;
}

/**
 * Answers a snapshot request (without the epoch, which the caller adds): every wanted state at
 * the newest multiple of `every` at or below the head, computed and stored when missing. The
 * states' JSON together stays within `maxBytes`: a state that does not fit in what is left is
 * not served (`too-large`), and the client replays instead.
 *
 * @example
 * const answer = serveSnapshots(source, { deciders: [board] }, wants, { maxBytes: 900_000 });
 */
export function serveSnapshots(
  source: SnapshotSource,
  definitions: SnapshotDefinitions,
  wants: readonly SnapshotWant[],
  options: {
    /** The most state JSON one answer carries (UTF-8 bytes): keep it under the frame limit. */
    maxBytes: number;
  },
): Omit<SnapshotsResponse, "epoch"> {
  const every = definitions.every ?? 1000;
  const head = source.head;
  const position = Math.floor(head / every) * every;
  let budget = options.maxBytes;
  const answer: Omit<SnapshotsResponse, "epoch"> = {
    head,
    position,
    snapshots: [],
    unavailable: [],
  };
  for (const want of wants) {
    const reason = unavailableReason(definitions, want, position);
    if (reason) {
      answer.unavailable.push({ ...want, reason });
      continue;
    }
    const foldable = definitionOf(definitions, want)!;
    const json = stateAt(source, foldable, want, position);
    const size = byteLength(json);
    if (size > budget) answer.unavailable.push({ ...want, reason: "too-large" });
    else {
      budget -= size;
      answer.snapshots.push({ ...want, state: JSON.parse(json) });
    }
  }
  if (answer.snapshots.length === 0) answer.position = 0;
  return answer;
}

function definitionOf(definitions: SnapshotDefinitions, want: SnapshotWant): Foldable | undefined {
  const list =
    want.kind === "decider"
      ? (definitions.deciders ?? [])
      : (definitions.projections ?? []).filter((projection) => projection.prefix === undefined);
  return list.find((foldable) => foldable.name === want.name);
}

function unavailableReason(
  definitions: SnapshotDefinitions,
  want: SnapshotWant,
  position: number,
): (typeof unavailableReasons)[number] | undefined {
  const foldable = definitionOf(definitions, want);
  if (!foldable) return "unknown";
  if (foldable.version !== want.version) return "version";
  if (position === 0) return "none-yet";
  return undefined;
}

// The state's JSON at `position`: stored, or folded from the nearest stored one below (or the
// first event) in pages, then stored.
function stateAt(
  source: SnapshotSource,
  foldable: Foldable,
  want: SnapshotWant,
  position: number,
): string {
  const base = source.nearest(want, position);
  if (base?.position === position) return JSON.stringify(base.state);
  let state = base ? base.state : initialStateOf(foldable);
  let cursor = base?.position ?? 0;
  while (cursor < position) {
    const page = source.read(cursor, Math.min(1000, position - cursor));
    if (page.length === 0) break;
    state = foldEvents(foldable, state, page);
    cursor = page[page.length - 1]!.position;
  }
  const json = JSON.stringify(state);
  source.save(want, position, json);
  return json;
}

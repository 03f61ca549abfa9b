// internal: not exported. What the Worker and the StreamLog object agree on: RPC outcomes (errors
// cross as JSON so their code survives), the caller headers of a forwarded upgrade, and the limits
// the Worker was configured with (createSyncNode options), which travel with every call.
import { type AppendedEvent, ChronicleError, type ChronicleErrorJSON } from "@chronicle/core";
import type { NodeLimits } from "../env.ts";
import { toPublicError } from "../http/errors.ts";

/** The result of an RPC that may fail. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ChronicleErrorJSON };

export type PushOutcome =
  | { kind: "ack"; results: (AppendedEvent & { actor?: string })[]; head: number }
  | { kind: "conflict"; head: number };

/** Headers the Worker sets on an upgrade it forwards after auth (never taken from the client). */
export const callerHeaders = {
  sub: "X-Chronicle-Sub",
  access: "X-Chronicle-Access",
  stream: "X-Chronicle-Stream",
  protocol: "X-Chronicle-Protocol",
  exp: "X-Chronicle-Exp",
  /** The limits in force, as JSON (NodeLimits): the socket keeps them in its attachment. */
  limits: "X-Chronicle-Limits",
} as const;

const limitKeys: readonly (keyof NodeLimits)[] = [
  "maxEventBytes",
  "maxEventsPerPush",
  "maxFrameBytes",
  "defaultPullLimit",
  "maxPullLimit",
  "ratePerSecond",
  "rateBurst",
];

/**
 * Reads the limits a forwarded upgrade carries; `undefined` when it carries none. Only the Worker
 * sets the header (it builds the forwarded request's headers from scratch), so a malformed one is
 * a bug, not a client's doing.
 */
export function limitsOfHeader(value: string | null): NodeLimits | undefined {
  if (value === null) return undefined;
  let limits: unknown;
  try {
    limits = JSON.parse(value);
  } catch {
    limits = undefined;
  }
  const valid =
    typeof limits === "object" &&
    limits !== null &&
    limitKeys.every((key) => {
      const n = (limits as Record<string, unknown>)[key];
      return Number.isSafeInteger(n) && (n as number) >= 1;
    });
  if (!valid) throw new ChronicleError("internal", `malformed ${callerHeaders.limits} header`);
  return limits as NodeLimits;
}

/** Runs an RPC body, turning a thrown error into a coded outcome. */
export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error: toPublicError(error).toJSON() };
  }
}

/** The value of an RPC outcome, or its coded error thrown again on the caller's side. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw ChronicleError.fromJSON(outcome.error);
}

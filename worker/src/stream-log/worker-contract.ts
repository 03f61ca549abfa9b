// internal: not exported. What the Worker and the StreamLog object agree on: RPC outcomes (errors
// cross as JSON so their code survives) and the caller headers of a forwarded upgrade.
import type { AppendedEvent, ChronicleErrorJSON } from "@chronicle/core";
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
} as const;

/** Runs an RPC body, turning a thrown error into a coded outcome. */
export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error: toPublicError(error).toJSON() };
  }
}

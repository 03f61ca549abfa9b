// internal: not exported. The route a new device starts from: `GET /v1/streams/:stream/snapshots
// ?decider=name:version&projection=name:version` (read access, like `GET /events`), answered by
// the stream's StreamLog object with the epoch in `X-Chronicle-Epoch`.
import { ChronicleError } from "@chronicle/core";
import type { Context, Hono } from "hono";
import { type AuthVariables, requireAccess } from "../auth/authenticate.ts";
import type { TokenVerifier } from "../auth/verify-token.ts";
import type { NodeLimits, SyncNodeEnv } from "../env.ts";
import type { Outcome } from "../stream-log/worker-contract.ts";

/** Adds the snapshots route to the stream routes (behind the auth middleware). */
export function addSnapshotRoute<E extends SyncNodeEnv>(
  streams: Hono<{ Bindings: E; Variables: AuthVariables }>,
  verify: TokenVerifier<E>,
  limitsOf: (env: E) => NodeLimits,
  epochHeader: string,
): void {
  streams.get(
    "/:stream/snapshots",
    requireAccess("read", verify),
    async (c: Context<{ Bindings: E; Variables: AuthVariables }>) => {
      const { caller } = c.var;
      const log = c.env.STREAM_LOG.get(c.env.STREAM_LOG.idFromName(caller.stream));
      // Plain copies: hono's query objects have no prototype, which RPC cannot serialize.
      const query = Object.fromEntries(
        Object.entries(c.req.queries()).map(([key, values]) => [key, [...values]]),
      );
      const outcome = (await log.snapshots(
        caller.stream,
        query,
        caller.sub,
        limitsOf(c.env),
      )) as Outcome<{ body: string; epoch: string }>;
      if (!outcome.ok) throw ChronicleError.fromJSON(outcome.error);
      return new Response(outcome.value.body, {
        headers: { "Content-Type": "application/json", [epochHeader]: outcome.value.epoch },
      });
    },
  );
}

// internal: not exported. Watching the node's processes and reactions (docs/architecture.md,
// "Processes", "On the sync node"):
//   GET /v1/processes/:name?status=&after=&limit=   instances, in id order, paged
//   GET /v1/processes/:name/:id                     one instance
//   GET /v1/reactions/:name/dead-letters            a reaction's dead letters
// Auth as on the stream routes, decided here before any object is touched: a missing or bad
// token is `unauthorized`, a bad query `validation`; the token must grant `read` on the pattern
// `process:<name>` (or `reaction:<name>`), like a stream id (`process:*` grants every process),
// else `forbidden`; a name the node does not run is `not-found` (only told to a caller allowed to
// read it).
import { ChronicleError } from "@chronicle/core";
import type { ProcessInstance, ProcessStatus } from "@chronicle/core/process";
import { accessFor, allows } from "@chronicle/sync/protocol";
import { type Context, Hono } from "hono";
import { tokenOf } from "../auth/authenticate.ts";
import type { TokenVerifier } from "../auth/verify-token.ts";
import type { SyncNodeEnv } from "../env.ts";
import { errorResponse } from "../http/errors.ts";
import { type Outcome, unwrap } from "../stream-log/worker-contract.ts";
import { processHost } from "./definitions.ts";
import type { InstanceFilter } from "./ProcessHost.ts";

const statuses: readonly ProcessStatus[] = ["running", "waiting", "done", "compensated", "failed"];
const defaultLimit = 100;
const maxLimit = 1000;

/** The host's object, once the caller may read `key` and the node runs it. */
async function authorize<E extends SyncNodeEnv>(
  c: Context<{ Bindings: E }>,
  verify: TokenVerifier<E>,
  key: string,
  parse: () => void = () => {},
) {
  const found = tokenOf(c.req.raw, false);
  if (!found) throw new ChronicleError("unauthorized", "a bearer token is required");
  const token = await verify(found.token, c.env);
  parse();
  if (!allows(accessFor(token.streams, key), "read")) {
    throw new ChronicleError("forbidden", `token of ${token.sub} may not read ${key}`, {
      details: { grant: key, needed: "read" },
    });
  }
  if (!processHost(key)) {
    throw new ChronicleError("not-found", `the node runs no ${key.replace(":", " ")}`);
  }
  const namespace = c.env.PROCESS_HOST;
  if (!namespace) {
    throw new ChronicleError(
      "internal",
      "processes need the ProcessHost Durable Object bound as PROCESS_HOST (wrangler.toml)",
    );
  }
  return namespace.get(namespace.idFromName(key));
}

/** Reads `?status=a,b&after=&limit=`: a bad value is `validation` naming the parameter. */
function parseFilter(query: Record<string, string | undefined>): InstanceFilter {
  const filter: InstanceFilter = { limit: defaultLimit };
  if (query.status !== undefined) {
    const wanted = query.status.split(",").filter((value) => value !== "");
    for (const status of wanted) {
      if (!statuses.includes(status as ProcessStatus)) {
        throw new ChronicleError("validation", `status must be among ${statuses.join(", ")}`, {
          details: { path: "status" },
        });
      }
    }
    filter.status = wanted as ProcessStatus[];
  }
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > maxLimit) {
      throw new ChronicleError("validation", `limit must be an integer in 1..${maxLimit}`, {
        details: { path: "limit" },
      });
    }
    filter.limit = limit;
  }
  if (query.after !== undefined) filter.after = query.after;
  return filter;
}

/** The process routes, to mount at `/v1`. */
export function processRoutes<E extends SyncNodeEnv>(
  verify: TokenVerifier<E>,
): Hono<{ Bindings: E }> {
  const routes = new Hono<{ Bindings: E }>();

  routes.get("/processes/:name", async (c) => {
    const key = `process:${c.req.param("name")}`;
    let filter: InstanceFilter = {};
    const host = await authorize(c, verify, key, () => {
      filter = parseFilter({ ...c.req.query() });
    });
    const limit = filter.limit ?? defaultLimit;
    // One more than the page, to know whether there is a next one.
    const found = unwrap(
      (await host.instances(key, { ...filter, limit: limit + 1 })) as Outcome<ProcessInstance[]>,
    );
    const instances = found.slice(0, limit);
    const next = found.length > limit ? instances.at(-1)?.id : undefined;
    return c.json({
      process: c.req.param("name"),
      instances,
      ...(next === undefined ? {} : { next }),
    });
  });

  routes.get("/processes/:name/:id", async (c) => {
    const key = `process:${c.req.param("name")}`;
    const host = await authorize(c, verify, key);
    return c.json({ instance: unwrap(await host.instance(key, c.req.param("id"))) });
  });

  routes.get("/reactions/:name/dead-letters", async (c) => {
    const key = `reaction:${c.req.param("name")}`;
    const host = await authorize(c, verify, key);
    return c.json({
      reaction: c.req.param("name"),
      deadLetters: unwrap(await host.deadLetters(key)),
    });
  });

  routes.onError((error) => errorResponse(error));
  return routes;
}

// internal: not exported. The directory's routes (docs/architecture.md, "Many streams"):
// `GET /v1/streams?prefix=&after=&limit=` lists streams, `GET /v1/watch?prefix=` upgrades to a
// watch socket. Auth as on the stream routes, decided here before any object is touched: a
// missing or bad token is `unauthorized`, a bad query `validation`, a token that grants nothing
// under the prefix `forbidden`; otherwise the caller sees the streams its grants may read.
import { ChronicleError } from "@chronicle/core";
import { grantsUnder, parseStreamsQuery, parseWatchQuery, spaceOf } from "@chronicle/sync/protocol";
import { type Context, Hono } from "hono";
import { tokenOf } from "../auth/authenticate.ts";
import type { TokenVerifier } from "../auth/verify-token.ts";
import type { NodeLimits, SyncNodeEnv } from "../env.ts";
import { errorResponse } from "../http/errors.ts";
import { unwrap } from "../stream-log/worker-contract.ts";
import { watchHeaders } from "./StreamDirectory.ts";

/** Who may list or watch what: the verified token's grants under the prefix. */
async function authorize<E extends SyncNodeEnv>(
  c: Context<{ Bindings: E }>,
  verify: TokenVerifier<E>,
  prefix: () => string,
  websocket: boolean,
) {
  const found = tokenOf(c.req.raw, websocket);
  if (!found) throw new ChronicleError("unauthorized", "a bearer token is required");
  const token = await verify(found.token, c.env);
  const wanted = prefix();
  const grants = grantsUnder(token.streams, wanted);
  if (grants !== "all" && grants.length === 0) {
    throw new ChronicleError(
      "forbidden",
      `token of ${token.sub} may read no stream under ${wanted}`,
      {
        details: { prefix: wanted, needed: "read" },
      },
    );
  }
  const namespace = c.env.STREAM_DIRECTORY;
  if (!namespace) {
    throw new ChronicleError(
      "internal",
      "listing and watching streams need the StreamDirectory Durable Object bound as STREAM_DIRECTORY (wrangler.toml)",
    );
  }
  // The prefix holds a ':' (parsed): its space is defined.
  const space = spaceOf(wanted)!;
  return {
    token,
    prefix: wanted,
    grants,
    space,
    protocol: found.protocol,
    directory: namespace.get(namespace.idFromName(space)),
  };
}

/** The directory routes, to mount at `/v1`. */
export function directoryRoutes<E extends SyncNodeEnv>(
  verify: TokenVerifier<E>,
  limitsOf: (env: E) => NodeLimits,
): Hono<{ Bindings: E }> {
  const routes = new Hono<{ Bindings: E }>();

  routes.get("/streams", async (c) => {
    let query: ReturnType<typeof parseStreamsQuery> | undefined;
    const caller = await authorize(
      c,
      verify,
      () => {
        query = parseStreamsQuery({ ...c.req.query() });
        return query.prefix;
      },
      false,
    );
    const page = unwrap(
      await caller.directory.list(
        caller.space,
        query!,
        caller.grants,
        caller.token.sub,
        limitsOf(c.env),
      ),
    );
    return c.json(page);
  });

  // A refused upgrade is a plain HTTP status (401/403/429), before upgrading.
  routes.get("/watch", async (c) => {
    const caller = await authorize(
      c,
      verify,
      () => parseWatchQuery({ ...c.req.query() }).prefix,
      true,
    );
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ChronicleError("validation", "this route needs a WebSocket upgrade");
    }
    const headers = new Headers({
      Upgrade: "websocket",
      [watchHeaders.sub]: caller.token.sub,
      [watchHeaders.exp]: String(caller.token.expiresAt),
      [watchHeaders.space]: caller.space,
      [watchHeaders.prefix]: caller.prefix,
      [watchHeaders.grants]: caller.grants === "all" ? "all" : JSON.stringify(caller.grants),
      [watchHeaders.limits]: JSON.stringify(limitsOf(c.env)),
    });
    if (caller.protocol !== undefined) headers.set(watchHeaders.protocol, caller.protocol);
    return caller.directory.fetch(new Request(c.req.url, { headers }));
  });

  routes.onError((error) => errorResponse(error));
  return routes;
}

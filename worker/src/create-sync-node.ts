// The node's HTTP surface (hono). Every request is authenticated and authorized here, before a
// Durable Object is touched; errors become HTTP statuses in one onError (http/errors.ts).
import { assertStreamId, ChronicleError } from "@chronicle/core";
import {
  checkEventsStream,
  devTokenBody,
  PROTOCOL_VERSION,
  parsePullQuery,
  parsePushBody,
  validationError,
} from "@chronicle/sync/protocol";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { authenticate, authorize, requireSecret } from "./auth/authenticate.ts";
import { signToken } from "./auth/jwt.ts";
import { checkLimitOptions, limitsFrom, type SyncNodeEnv } from "./env.ts";
import { errorResponse } from "./http/errors.ts";
import { readBodyText } from "./http/read-body.ts";
import type { SyncNodeOptions } from "./options.ts";
import { callerHeaders, type Outcome } from "./stream-log/worker-contract.ts";

/** HTTP clients learn the stream's epoch (rule 6) from this header on push and pull answers. */
const epochHeader = "X-Chronicle-Epoch";

/** Unwraps an RPC outcome, rebuilding the coded error on failure. */
function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw ChronicleError.fromJSON(outcome.error);
}

function notFound(c: Context): Response {
  return errorResponse(
    new ChronicleError("not-found", `no route for ${c.req.method} ${c.req.path}`),
  );
}

/**
 * Builds the sync node: a hono app serving protocol v1 (`/health`, `/v1/streams/:stream/ws`,
 * `/v1/streams/:stream/events`, and `/v1/dev/token` when enabled) in front of the StreamLog
 * Durable Object bound as `STREAM_LOG`. Export it as the Worker's default export, next to
 * `StreamLog`. Every option falls back to the env vars of wrangler.toml; the app may add routes
 * of its own to the returned app.
 *
 * @example
 * // src/index.ts of the app
 * import { createSyncNode, StreamLog } from "@chronicle/node";
 * export { StreamLog };
 * export default createSyncNode();
 *
 * @example
 * // Limits, allowed origins and the key in code rather than in env vars
 * export default createSyncNode<Env>({
 *   limits: { maxEventsPerPush: 100 },
 *   cors: { origins: ["https://board.example.com"] },
 *   auth: { secret: (env) => env.TOKEN_KEY },
 * });
 */
export function createSyncNode<E extends SyncNodeEnv = SyncNodeEnv>(
  options: SyncNodeOptions<E> = {},
): Hono<{ Bindings: E }> {
  if (options.limits) checkLimitOptions(options.limits);
  const limitsOf = (env: E) => limitsFrom(env, options.limits);
  const secretOf = (env: E): string | undefined => {
    const secret = options.auth?.secret;
    if (secret === undefined) return env.CHRONICLE_SECRET;
    return typeof secret === "function" ? secret(env) : secret;
  };
  const devTokenRoute = (env: E) => options.devTokenRoute ?? env.CHRONICLE_DEV === "1";

  type NodeContext = Context<{ Bindings: E }>;
  const streamParam = (c: NodeContext): string => {
    const stream = c.req.param("stream");
    assertStreamId(stream);
    return stream;
  };
  const logOf = (c: NodeContext, stream: string) =>
    c.env.STREAM_LOG.get(c.env.STREAM_LOG.idFromName(stream));

  const app = new Hono<{ Bindings: E }>();

  if (options.cors !== false) {
    const origins = options.cors?.origins ?? "*";
    app.use(
      "*",
      cors({
        origin: origins === "*" ? "*" : [...origins],
        allowMethods: ["GET", "POST", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type"],
        exposeHeaders: [epochHeader],
        maxAge: 86_400,
      }),
    );
  }

  app.get("/health", (c) => c.json({ ok: true, protocol: PROTOCOL_VERSION }));

  // When the route is off it does not exist: 404, like any unknown route.
  app.post("/v1/dev/token", async (c) => {
    if (!devTokenRoute(c.env)) return notFound(c);
    const limits = limitsOf(c.env);
    let value: unknown;
    try {
      value = JSON.parse(await readBodyText(c.req.raw, limits.maxFrameBytes));
    } catch (error) {
      if (error instanceof ChronicleError) throw error;
      throw new ChronicleError("validation", "body is not valid JSON");
    }
    const parsed = devTokenBody.safeParse(value);
    if (!parsed.success) throw validationError(parsed.error, "body");
    const { sub, streams, ttlSeconds = 12 * 3600 } = parsed.data;
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    return c.json({
      token: await signToken({ sub, streams, exp }, requireSecret(secretOf(c.env))),
    });
  });

  // A WebSocket upgrade is refused with a plain HTTP 401/403 before upgrading.
  app.get("/v1/streams/:stream/ws", async (c) => {
    const claims = await authenticate(c.req.raw, secretOf(c.env));
    const stream = streamParam(c);
    const caller = authorize(claims, stream, "read");
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ChronicleError("validation", "this route needs a WebSocket upgrade");
    }
    // Built from scratch: nothing of the client's headers reaches the object but the upgrade.
    const headers = new Headers({
      Upgrade: "websocket",
      [callerHeaders.sub]: caller.sub,
      [callerHeaders.access]: caller.access,
      [callerHeaders.stream]: stream,
      [callerHeaders.exp]: String(caller.exp),
      [callerHeaders.limits]: JSON.stringify(limitsOf(c.env)),
    });
    if (caller.protocol !== undefined) headers.set(callerHeaders.protocol, caller.protocol);
    return logOf(c, stream).fetch(new Request(c.req.url, { headers }));
  });

  app.post("/v1/streams/:stream/events", async (c) => {
    const claims = await authenticate(c.req.raw, secretOf(c.env));
    const stream = streamParam(c);
    const caller = authorize(claims, stream, "write");
    const limits = limitsOf(c.env);
    const body = parsePushBody(await readBodyText(c.req.raw, limits.maxFrameBytes), limits);
    checkEventsStream(stream, body.events);
    const outcome = unwrap(
      await logOf(c, stream).push(stream, body.events, body.expected, caller.sub, limits),
    );
    c.header(epochHeader, outcome.epoch);
    if (outcome.kind === "conflict") {
      throw new ChronicleError("conflict", `${stream} moved on: head is ${outcome.head}`, {
        details: { head: outcome.head },
      });
    }
    return c.json({ results: outcome.results });
  });

  app.get("/v1/streams/:stream/events", async (c) => {
    const claims = await authenticate(c.req.raw, secretOf(c.env));
    const stream = streamParam(c);
    authorize(claims, stream, "read");
    const limits = limitsOf(c.env);
    const { after, limit } = parsePullQuery(c.req.query(), limits);
    const { body, epoch } = unwrap(await logOf(c, stream).pullBody(stream, after, limit, limits));
    return new Response(body, {
      headers: { "Content-Type": "application/json", [epochHeader]: epoch },
    });
  });

  app.notFound(notFound);
  app.onError((error) => errorResponse(error));
  return app;
}

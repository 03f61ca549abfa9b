// The node's HTTP surface (hono). One auth middleware (auth/authenticate.ts) authenticates and
// authorizes every stream route before a Durable Object is touched and sets `c.var.caller`;
// hono's bodyLimit bounds request bodies; errors become HTTP statuses in one onError
// (http/errors.ts). Parsing, rate limits and the log happen in the stream's StreamLog object.
import { ChronicleError } from "@chronicle/core";
import { devTokenBody, PROTOCOL_VERSION, validationError } from "@chronicle/sync/protocol";
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { type AuthVariables, requireAccess } from "./auth/authenticate.ts";
import { hmacKey, signToken } from "./auth/jwt.ts";
import { checkAuthOptions, createTokenVerifier } from "./auth/verify-token.ts";
import { directoryRoutes } from "./directory/directory-routes.ts";
import { checkLimitOptions, limitsFrom, type SyncNodeEnv } from "./env.ts";
import { bodyText, limitBody } from "./http/body.ts";
import { errorResponse } from "./http/errors.ts";
import type { SyncNodeOptions } from "./options.ts";
import { registerProcessDefinitions } from "./processes/definitions.ts";
import { processRoutes } from "./processes/process-routes.ts";
import { signInHandler } from "./sign-in/sign-in-route.ts";
import { registerSnapshotDefinitions } from "./snapshots/definitions.ts";
import { addSnapshotRoute } from "./snapshots/snapshot-route.ts";
import { callerHeaders, unwrap } from "./stream-log/worker-contract.ts";

/** HTTP clients learn the stream's epoch (rule 6) from this header on push and pull answers. */
const epochHeader = "X-Chronicle-Epoch";

function notFound(c: Context): Response {
  return errorResponse(
    new ChronicleError("not-found", `no route for ${c.req.method} ${c.req.path}`),
  );
}

/**
 * Builds the sync node: a hono app serving protocol v1 (`/health`, `/v1/streams/:stream/ws`,
 * `/v1/streams/:stream/events`, the stream directory's `/v1/streams` and `/v1/watch`,
 * `/v1/sign-in` when the app gives a `signIn`, and `/v1/dev/token` when enabled) in front of
 * the StreamLog Durable Object bound as `STREAM_LOG` and the StreamDirectory bound as
 * `STREAM_DIRECTORY`. Export it as the Worker's default export,
 * next to `StreamLog` and `StreamDirectory`. Every option falls back to the env vars of
 * wrangler.toml; the app may add routes
 * of its own to the returned app.
 *
 * @example
 * // src/index.ts of the app
 * import { createSyncNode, StreamDirectory, StreamLog } from "@chronicle/node";
 * export { StreamDirectory, StreamLog };
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
): Hono<{
  /** The Worker's env: the node's bindings and vars, and the app's own. */
  Bindings: E;
}> {
  if (options.limits) checkLimitOptions(options.limits);
  // Dev mode (the dev token route is on) also accepts an HS256 secret shorter than 32 bytes.
  const devMode = (env: E) => options.devTokenRoute ?? env.CHRONICLE_DEV === "1";
  if (options.auth) checkAuthOptions(options.auth, options.devTokenRoute === true);
  // New devices start from these (worker/src/snapshots/): the StreamLog objects read them.
  if (options.snapshots) registerSnapshotDefinitions(options.snapshots);
  // Processes and reactions (worker/src/processes/): the StreamLog and ProcessHost objects read them.
  registerProcessDefinitions({
    processes: options.processes,
    reactions: options.reactions,
    deciders: options.deciders,
    clock: options.processClock,
  });
  const limitsOf = (env: E) => limitsFrom(env, options.limits);
  const verify = createTokenVerifier<E>(options.auth, devMode);
  const secretOf = (env: E): string | undefined => {
    const secret = options.auth?.secret;
    if (secret === undefined) return env.CHRONICLE_SECRET;
    return typeof secret === "function" ? secret(env) : secret;
  };
  const logOf = (env: E, stream: string) => env.STREAM_LOG.get(env.STREAM_LOG.idFromName(stream));
  const bodyWithinLimit = <V extends object>() =>
    limitBody<{ Bindings: E; Variables: V }>((c) => limitsOf(c.env).maxFrameBytes);

  const app = new Hono<{ Bindings: E }>();
  // The stream routes, behind the auth middleware: their context carries `c.var.caller`.
  type StreamEnv = { Bindings: E; Variables: AuthVariables };
  type StreamContext = Context<StreamEnv>;
  const streams = new Hono<StreamEnv>();

  if (options.cors !== false) {
    const origins = options.cors?.origins ?? "*";
    app.use(
      "*",
      cors({
        origin: origins === "*" ? "*" : [...origins],
        allowMethods: ["GET", "POST", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type"],
        exposeHeaders: [epochHeader, "Retry-After"],
        maxAge: 86_400,
      }),
    );
  }

  app.get("/health", (c) => c.json({ ok: true, protocol: PROTOCOL_VERSION }));

  // When the route is off it does not exist: 404, like any unknown route.
  app.post(
    "/v1/dev/token",
    (c, next) => (devMode(c.env) ? next() : Promise.resolve(notFound(c))),
    bodyWithinLimit(),
    async (c: Context<{ Bindings: E }>) => {
      let value: unknown;
      try {
        value = JSON.parse(await bodyText(c));
      } catch (error) {
        if (error instanceof ChronicleError) throw error;
        throw new ChronicleError("validation", "body is not valid JSON");
      }
      const parsed = devTokenBody.safeParse(value);
      if (!parsed.success) throw validationError(parsed.error, "body");
      const { sub, streams, ttlSeconds = 12 * 3600 } = parsed.data;
      const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
      const key = hmacKey(secretOf(c.env), true);
      return c.json({ token: await signToken({ sub, streams, exp }, key) });
    },
  );

  // The app's sign-in (sign-in/): absent, the route does not exist (404).
  if (options.signIn) {
    app.post("/v1/sign-in", bodyWithinLimit(), signInHandler(options.signIn, secretOf, devMode));
  }

  // A WebSocket upgrade is refused with a plain HTTP status (401/403/429) before upgrading.
  streams.get(
    "/:stream/ws",
    requireAccess("read", verify, { websocket: true }),
    async (c: StreamContext) => {
      if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
        throw new ChronicleError("validation", "this route needs a WebSocket upgrade");
      }
      const { caller } = c.var;
      // Built from scratch: nothing of the client's headers reaches the object but the upgrade.
      const headers = new Headers({
        Upgrade: "websocket",
        [callerHeaders.sub]: caller.sub,
        [callerHeaders.access]: caller.access,
        [callerHeaders.stream]: caller.stream,
        [callerHeaders.exp]: String(caller.exp),
        [callerHeaders.limits]: JSON.stringify(limitsOf(c.env)),
      });
      if (caller.protocol !== undefined) headers.set(callerHeaders.protocol, caller.protocol);
      return logOf(c.env, caller.stream).fetch(new Request(c.req.url, { headers }));
    },
  );

  streams.post(
    "/:stream/events",
    requireAccess("write", verify),
    bodyWithinLimit<AuthVariables>(),
    async (c: StreamContext) => {
      const { caller } = c.var;
      const text = await bodyText(c);
      const outcome = unwrap(
        await logOf(c.env, caller.stream).pushBody(
          caller.stream,
          text,
          caller.sub,
          limitsOf(c.env),
        ),
      );
      c.header(epochHeader, outcome.epoch);
      if (outcome.kind === "conflict") {
        throw new ChronicleError("conflict", `${caller.stream} moved on: head is ${outcome.head}`, {
          details: { head: outcome.head },
        });
      }
      return c.json({ results: outcome.results });
    },
  );

  streams.get("/:stream/events", requireAccess("read", verify), async (c: StreamContext) => {
    const { caller } = c.var;
    const { body, epoch } = unwrap(
      await logOf(c.env, caller.stream).pullPage(
        caller.stream,
        // A plain copy: hono's query object has no prototype, which RPC cannot serialize.
        { ...c.req.query() },
        caller.sub,
        limitsOf(c.env),
      ),
    );
    return new Response(body, {
      headers: { "Content-Type": "application/json", [epochHeader]: epoch },
    });
  });

  addSnapshotRoute(streams, verify, limitsOf, epochHeader);

  streams.onError((error) => errorResponse(error));
  // Many streams: `GET /v1/streams` (listing) and `GET /v1/watch` (a socket of heads).
  app.route("/v1", directoryRoutes<E>(verify, limitsOf));
  // Processes and reactions: `GET /v1/processes/:name(/:id)`, `GET /v1/reactions/:name/dead-letters`.
  app.route("/v1", processRoutes<E>(verify));
  app.route("/v1/streams", streams);
  app.notFound(notFound);
  app.onError((error) => errorResponse(error));
  return app;
}

// internal: not exported. The node's HTTP surface (hono). Every request is authenticated and
// authorized here, before a Durable Object is touched; errors become HTTP statuses in one
// onError (http/errors.ts).
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
import { authenticate, authorize, secretOf } from "./auth/authenticate.ts";
import { signToken } from "./auth/jwt.ts";
import { limitsFrom, type NodeEnv } from "./env.ts";
import { errorResponse } from "./http/errors.ts";
import { readBodyText } from "./http/read-body.ts";
import { callerHeaders, type Outcome } from "./stream-log/worker-contract.ts";

/** HTTP clients learn the stream's epoch (rule 6) from this header on push and pull answers. */
export const epochHeader = "X-Chronicle-Epoch";

type NodeContext = Context<{ Bindings: NodeEnv }>;

/** Unwraps an RPC outcome, rebuilding the coded error on failure. */
function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw ChronicleError.fromJSON(outcome.error);
}

function streamParam(c: NodeContext): string {
  const stream = c.req.param("stream");
  assertStreamId(stream);
  return stream;
}

function logOf(c: NodeContext, stream: string) {
  return c.env.STREAM_LOG.get(c.env.STREAM_LOG.idFromName(stream));
}

/**
 * Builds the sync node's hono app.
 *
 * @example
 * export default { fetch: createApp().fetch };
 */
export function createApp(): Hono<{ Bindings: NodeEnv }> {
  const app = new Hono<{ Bindings: NodeEnv }>();

  // Browsers on other origins may call the HTTP API: tokens travel in the Authorization header
  // (never cookies), so any origin is allowed; the epoch header is exposed to scripts.
  app.use(
    "*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: [epochHeader],
      maxAge: 86_400,
    }),
  );

  app.get("/health", (c) => c.json({ ok: true, protocol: PROTOCOL_VERSION }));

  // Only when CHRONICLE_DEV is exactly "1"; otherwise the route does not exist (404).
  app.post("/v1/dev/token", async (c) => {
    if (c.env.CHRONICLE_DEV !== "1") return notFound(c);
    const limits = limitsFrom(c.env);
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
    return c.json({ token: await signToken({ sub, streams, exp }, secretOf(c.env)) });
  });

  // A WebSocket upgrade is refused with a plain HTTP 401/403 before upgrading.
  app.get("/v1/streams/:stream/ws", async (c) => {
    const claims = await authenticate(c.req.raw, c.env);
    const stream = streamParam(c);
    const caller = authorize(claims, stream, "read");
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new ChronicleError("validation", "this route needs a WebSocket upgrade");
    }
    const headers = new Headers({
      Upgrade: "websocket",
      [callerHeaders.sub]: caller.sub,
      [callerHeaders.access]: caller.access,
      [callerHeaders.stream]: stream,
      [callerHeaders.exp]: String(caller.exp),
    });
    if (caller.protocol !== undefined) headers.set(callerHeaders.protocol, caller.protocol);
    return logOf(c, stream).fetch(new Request(c.req.url, { headers }));
  });

  app.post("/v1/streams/:stream/events", async (c) => {
    const claims = await authenticate(c.req.raw, c.env);
    const stream = streamParam(c);
    const caller = authorize(claims, stream, "write");
    const limits = limitsFrom(c.env);
    const body = parsePushBody(await readBodyText(c.req.raw, limits.maxFrameBytes), limits);
    checkEventsStream(stream, body.events);
    const outcome = unwrap(
      await logOf(c, stream).push(stream, body.events, body.expected, caller.sub),
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
    const claims = await authenticate(c.req.raw, c.env);
    const stream = streamParam(c);
    authorize(claims, stream, "read");
    const limits = limitsFrom(c.env);
    const { after, limit } = parsePullQuery(c.req.query(), limits);
    const log = logOf(c, stream);
    const { body, epoch } = unwrap(await log.pullBody(stream, after, limit));
    return new Response(body, {
      headers: { "Content-Type": "application/json", [epochHeader]: epoch },
    });
  });

  // Baseline for the benchmark: only exists when the bench config binds ECHO.
  app.get("/bench/echo/:room", async (c) => {
    if (!c.env.ECHO) return notFound(c);
    return c.env.ECHO.get(c.env.ECHO.idFromName(c.req.param("room"))).fetch(c.req.raw);
  });

  app.notFound(notFound);
  app.onError((error) => errorResponse(error));
  return app;
}

function notFound(c: NodeContext): Response {
  return errorResponse(
    new ChronicleError("not-found", `no route for ${c.req.method} ${c.req.path}`),
  );
}

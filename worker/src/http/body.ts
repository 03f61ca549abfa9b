// internal: not exported. Request bodies: hono's bodyLimit refuses one over the frame limit with
// `too-large` (by Content-Length before reading, or while a chunked body streams, never buffered
// past the limit); the text is then decoded as strict UTF-8 (a replaced byte would be a silent
// change of the client's data).
import { ChronicleError } from "@chronicle/core";
import type { Context, Env, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

export function tooLarge(limit: number): ChronicleError {
  return new ChronicleError("too-large", `body exceeds ${limit} bytes`, { details: { limit } });
}

/** Refuses bodies over `maxBytes(c)` with `too-large`. */
export function limitBody<E extends Env>(
  maxBytes: (c: Context<E>) => number,
): MiddlewareHandler<E> {
  return (c, next) => {
    const maxSize = maxBytes(c);
    return bodyLimit({
      maxSize,
      onError: () => {
        // Refused by its Content-Length, the body is not read at all: cancel it, so that nothing
        // waits for it before the answer leaves (`wrangler dev` drains unread bodies first: it
        // held the 413 until the client had sent everything, and a client that gave up got a
        // plain 503). A chunked body is being read by bodyLimit, which stops reading it.
        const body = c.req.raw.body;
        if (body && !body.locked) body.cancel().catch(() => {});
        throw tooLarge(maxSize);
      },
    })(c, next);
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The request body as text; `validation` when it is not UTF-8. */
export async function bodyText(c: Context): Promise<string> {
  const bytes = await c.req.arrayBuffer();
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ChronicleError("validation", "body is not valid UTF-8", {
      details: { path: "(root)" },
    });
  }
}

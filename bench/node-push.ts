// internal: not exported. A browser command of the bench (bench/vitest.browser.config.ts): pushes
// events to the sync node from the Node side, as another device would (the node answers no CORS
// preflight, so the page cannot POST to it itself). `wrangler dev` reloads the node when a source
// file of the tree changes, and a request cut by that fails (503, or the connection closes): the
// same push is sent again (idempotent by event id), as a client would.
import { pushRetrying } from "../test/sync-node/push-retrying.ts";

/** One stream's events to push (envelopes built by the page with createEnvelope). */
export interface StreamPush {
  stream: string;
  events: unknown[];
}

/** POSTs each stream's events to `<url>/v1/streams/<stream>/events`, `concurrency` at a time. */
export async function pushEvents(
  url: string,
  token: string,
  pushes: readonly StreamPush[],
  concurrency = 32,
): Promise<void> {
  for (let start = 0; start < pushes.length; start += concurrency) {
    await Promise.all(
      pushes
        .slice(start, start + concurrency)
        .map((push) => pushRetrying(url, token, push.stream, push.events)),
    );
  }
}

declare module "vitest/browser" {
  interface BrowserCommands {
    /** Pushes events to the sync node from the Node side (see bench/node-push.ts). */
    pushEvents: (url: string, token: string, pushes: StreamPush[]) => Promise<void>;
  }
}

// internal: not exported. A browser command of the bench (bench/vitest.browser.config.ts): pushes
// events to the sync node from the Node side, as another device would (the node answers no CORS
// preflight, so the page cannot POST to it itself). `wrangler dev` reloads the node when a source
// file of the tree changes, and a request cut by that fails (503, or the connection closes): the
// same push is sent again (idempotent by event id), as a client would.

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
      pushes.slice(start, start + concurrency).map((push) => pushOne(url, token, push)),
    );
  }
}

async function pushOne(url: string, token: string, { stream, events }: StreamPush): Promise<void> {
  const body = JSON.stringify({ events });
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      const response = await fetch(`${url}/v1/streams/${stream}/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body,
      });
      if (response.ok) return;
      failure = `${response.status} ${await response.text()}`;
      if (response.status !== 503) throw new Error(`push ${stream}: ${failure}`);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // fetch's network failure
      failure = String(error.cause ?? error);
    }
    if (attempt === 5) throw new Error(`push ${stream}: ${failure}`);
  }
}

declare module "vitest/browser" {
  interface BrowserCommands {
    /** Pushes events to the sync node from the Node side (see bench/node-push.ts). */
    pushEvents: (url: string, token: string, pushes: StreamPush[]) => Promise<void>;
  }
}

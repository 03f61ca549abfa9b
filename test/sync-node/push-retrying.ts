// POSTs events to a stream of a `wrangler dev` node. `wrangler dev` reloads the node when a
// source file of the tree changes, and a request cut by that fails (503, or the connection
// closes): the same push is sent again (idempotent by event id), as a client would.

/** Pushes `events` to `<url>/v1/streams/<stream>/events`, retrying a cut request up to 4 times. */
export async function pushRetrying(
  url: string,
  token: string,
  stream: string,
  events: readonly unknown[],
): Promise<void> {
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

// internal: not exported. `GET /v1/streams/:stream/snapshots` for the WebSocket and HTTP
// transports (docs/architecture.md, "Snapshots for new devices"): the token in the
// Authorization header, the answer parsed with the protocol's schema, a refusal as a coded error.
import { ChronicleError, isErrorCode } from "@chronicle/core";
import {
  parseSnapshotsResponse,
  type SnapshotsResponse,
  type SnapshotWant,
  snapshotQueryString,
} from "../protocol/snapshots.ts";
import { resolveToken, type TokenSource } from "./token.ts";

/** Asks the node at `base` (an http(s) URL) for the latest states of `wants` on `stream`. */
export async function fetchSnapshots(
  options: { base: string; token: TokenSource | undefined; fetch: typeof fetch },
  stream: string,
  wants: readonly SnapshotWant[],
): Promise<SnapshotsResponse> {
  const token = await resolveToken(options.token);
  const url = `${options.base}/v1/streams/${encodeURIComponent(stream)}/snapshots?${snapshotQueryString(wants)}`;
  const response = await options.fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  if (!response.ok) {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // a proxy's answer: the status says enough
    }
    const { code, message, ...details } = body;
    throw new ChronicleError(
      isErrorCode(code) ? code : response.status >= 500 ? "internal" : "protocol",
      typeof message === "string" ? message : `snapshots: HTTP ${response.status}`,
      { details },
    );
  }
  return parseSnapshotsResponse(text);
}

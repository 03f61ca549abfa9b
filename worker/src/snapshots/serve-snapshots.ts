// internal: not exported. `GET /v1/streams/:stream/snapshots` inside the StreamLog object: parse
// the query, then serve the states with the protocol module's one rule (`serveSnapshots`), from
// and into the object's snapshot table. The answer, envelope included, fits the frame limit
// (rule 7): states that do not fit are listed as unavailable and the client replays instead.
import { parseSnapshotQuery, serveSnapshots } from "@chronicle/sync/protocol";
import type { NodeLimits } from "../env.ts";
import type { LogTable } from "../stream-log/log-table.ts";
import { snapshotDefinitions } from "./definitions.ts";
import { SnapshotTable } from "./snapshot-table.ts";

/** Room kept in a frame for the answer's envelope: epoch, head, names, reasons. */
const envelopeBytes = 32_768;

/** The answer's body text (the route adds the epoch header). */
export function snapshotsBodyText(
  storage: DurableObjectStorage,
  log: LogTable,
  query: Record<string, string | readonly string[] | undefined>,
  limits: NodeLimits,
): string {
  const wants = parseSnapshotQuery(query);
  const answer = serveSnapshots(new SnapshotTable(storage, log), snapshotDefinitions(), wants, {
    maxBytes: Math.max(0, limits.maxFrameBytes - envelopeBytes),
  });
  return JSON.stringify({ epoch: log.epoch, ...answer });
}

// internal: not exported. createChronicle's start: waits for the worker module to host
// Chronicle, then opens it, and fails loudly instead of hanging. Three ways a start fails:
// 1. The worker does not load: its module throws at top level, or its URL does not resolve. The
//    Worker fires `error`, and nothing will ever answer.
// 2. The worker loads but does not call `hostChronicle` within `startTimeoutMs`: a `ping` (sent
//    before `open`, answered first) has no answer. Only hosting is timed: `open` may then wait
//    for as long as an old tab blocks the database (the app hears `blocked` meanwhile).
// 3. `open` rejects (the database cannot be opened): its ChronicleError, with its code.
import { ChronicleError, toChronicleError } from "@chronicle/core";
import type { Remote } from "comlink";
import type { HostApi, HostStatus, OpenInfo, OpenRequest } from "../shared/host-api.ts";

export const defaultStartTimeoutMs = 10_000;

export interface OpenHostOptions {
  /** The endpoint `remote` wraps: a Worker reports load failures; a MessagePort cannot. */
  endpoint: Worker | MessagePort;
  startTimeoutMs: number;
}

/** Opens the host behind `remote`; rejects with a ChronicleError on any of the failures above. */
export async function openHost(
  remote: Remote<HostApi>,
  request: OpenRequest,
  onStatus: (status: HostStatus) => void,
  { endpoint, startTimeoutMs }: OpenHostOptions,
): Promise<OpenInfo> {
  let stopWatching = () => {};
  const failedToHost = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => {
      reject(
        new ChronicleError(
          "internal",
          `Chronicle's worker did not call hostChronicle within ${startTimeoutMs} ms ` +
            "(is it the module that hosts Chronicle?)",
          { details: { stage: "host", startTimeoutMs } },
        ),
      );
    }, startTimeoutMs);
    const onError = (event: Event) => {
      const message = event instanceof ErrorEvent && event.message ? `: ${event.message}` : "";
      reject(
        new ChronicleError(
          "internal",
          `Chronicle's worker failed to load${message || " (its script could not be fetched or evaluated)"}`,
          { details: { stage: "load" }, cause: event },
        ),
      );
    };
    const worker = "terminate" in endpoint ? endpoint : undefined;
    worker?.addEventListener("error", onError);
    stopWatching = () => {
      clearTimeout(timer);
      worker?.removeEventListener("error", onError);
    };
  });
  const opening = remote.open(request, onStatus);
  // Settles with the race below; an `open` left unanswered (the worker never hosted) must not
  // surface later as an unhandled rejection.
  opening.catch(() => {});
  try {
    await Promise.race([remote.ping(), failedToHost]);
  } finally {
    stopWatching();
  }
  try {
    return await opening;
  } catch (error) {
    throw toChronicleError(error);
  }
}

// internal: not exported. The worker side of the commands port (see CommandRequest in
// host-api.ts): runs each command on the engine and answers on the port. A command written on
// a known state has its result before its transaction has finished committing; it is posted
// then (`early`, cloned and delivered while IndexedDB commits) and confirmed with a small
// `committed` message as soon as the commit is durable (see EarlyAnswer), so that the main
// thread shows it then and not before.
import { toChronicleError } from "@chronicle/core";
import type { CommandReply, CommandRequest, ExecuteResult } from "../shared/host-api.ts";
import type { ChronicleEngine } from "./engine.ts";

/**
 * Answers commands arriving on `port` until it is closed. `replied` collects the projection
 * records the main thread received in answers (its watchers need not be posted them again).
 */
export function serveCommands(
  port: MessagePort,
  engine: () => ChronicleEngine,
  replied: WeakSet<object>,
): () => void {
  const post = (reply: CommandReply) => port.postMessage(reply);
  port.onmessage = async ({ data }: MessageEvent<CommandRequest>) => {
    const { id } = data;
    let sent: ExecuteResult | undefined;
    let confirmed = false;
    try {
      const result = await engine().execute(
        data.stream,
        data.decider,
        data.command,
        data.options,
        (known) => {
          try {
            post({ id, kind: "early", result: known });
            sent = known;
          } catch {
            // Not sent (e.g. not cloneable): the final answer says what happened.
            return undefined;
          }
          // Confirmed as soon as it is durable: the engine's work after the commit (announcing
          // it to watchers, other tabs and the sync engine) does not delay what the user sees.
          return () => {
            if (sent !== known) return;
            for (const record of known.projections) replied.add(record);
            try {
              post({ id, kind: "committed" });
              confirmed = true;
            } catch {
              // The port is closed: nobody waits for the answer.
            }
          };
        },
      );
      for (const record of result.projections) replied.add(record);
      if (result !== sent) post({ id, kind: "result", result });
      else if (!confirmed) post({ id, kind: "committed" });
    } catch (error) {
      const coded = toChronicleError(error);
      try {
        post({ id, kind: "error", error: coded.toJSON(), stack: coded.stack });
      } catch {
        // The port is closed: nobody waits for the answer.
      }
    }
  };
  port.start();
  return () => {
    port.onmessage = null;
    port.close();
  };
}

// internal: not exported. The worker side of the commands port (see CommandRequest in
// host-api.ts): runs each command on the engine and answers on the port. A command written on
// a known state has its result before its transaction has finished committing; it is posted
// then (`early`, cloned and delivered while IndexedDB commits) and confirmed with a small
// `committed` message, so that the main thread shows it as soon as it is durable and not before.
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
          }
        },
      );
      for (const record of result.projections) replied.add(record);
      post(result === sent ? { id, kind: "committed" } : { id, kind: "result", result });
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

// What an app passes to createSyncNode to run processes and reactions on the node (the same
// definitions it gives the browser host).
import type { Decider } from "@chronicle/core";
import type { Clock, Process, Reaction } from "@chronicle/core/process";

/** The processes and reactions options of `createSyncNode` (docs: worker/README.md, "Processes"). */
export interface SyncNodeProcessOptions {
  /**
   * Process types the node runs, authoritatively: one ProcessHost object per type (bound as
   * `PROCESS_HOST`), fed at least once by every stream log holding events it listens to. Its
   * commands' events carry the node's identity (`meta.actor` and `meta.device`
   * `"chronicle-node"`). Call createSyncNode at the top of the Worker's module so the objects
   * find them.
   *
   * @default none
   * @example
   * export default createSyncNode({ processes: [orderFulfilment], deciders: [order, stock, payment] });
   */
  processes?: readonly Process[];
  /**
   * Reactions the node runs (side effects: mail, webhooks), one ProcessHost object each, with a
   * durable checkpoint, retries with backoff and dead letters.
   *
   * @default none
   */
  reactions?: readonly Reaction[];
  /** Every decider the processes send commands to. @default none */
  deciders?: readonly Decider[];
  /**
   * The clock of deadlines and retries. For tests (a virtual clock); the objects' alarms follow
   * it.
   *
   * @default systemClock
   */
  processClock?: Clock;
}

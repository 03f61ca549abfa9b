// The main thread's view of processes and reactions (`chronicle.processes`): reads go to this
// tab's worker, which reads the database (any tab may); the leader tab's worker runs them.
import type { DeadLetter, ListQuery, ProcessInstance } from "@chronicle/core/process";
import type { Remote } from "comlink";
import type { HostApi } from "../shared/host-api.ts";

/**
 * Process instances and reactions' dead letters, for an app's screens and devtools. Processes
 * and reactions are declared in the worker (`hostChronicle({ processes, reactions })`) and run
 * by the leader tab's worker; every tab sees the same instances.
 */
export interface ChronicleProcesses {
  /**
   * Instances with their state, status, step history (with event ids), correlation id, pending
   * deadlines and outbox; by process, then id.
   */
  list(query?: ListQuery): Promise<ProcessInstance[]>;
  /** One instance, or `undefined`. */
  get(process: string, id: string): Promise<ProcessInstance | undefined>;
  /** Events reactions gave up on, with the error, oldest first; one reaction's when named. */
  deadLetters(reaction?: string): Promise<DeadLetter[]>;
  /** Runs a dead letter's handler again once; true when it succeeded (it leaves the list). */
  retryDeadLetter(id: string): Promise<boolean>;
  /**
   * Hears that instances, checkpoints or dead letters changed, in any tab (a notice: read them
   * again). Returns the unsubscribe.
   */
  onChange(listener: () => void): () => void;
}

/**
 * `chronicle.processes` over the worker host (internal: createChronicle builds it).
 *
 * @example
 * const processes = createProcessesApi(remote, "kanban", assertOpen);
 * const running = await processes.list({ status: ["running", "waiting"] });
 */
export function createProcessesApi(
  remote: Remote<HostApi>,
  databaseName: string,
  assertOpen: () => void,
): ChronicleProcesses & {
  /** Stops hearing changes (createChronicle's close). */
  close(): void;
} {
  const listeners = new Set<() => void>();
  let channel: BroadcastChannel | undefined;
  const listen = () => {
    // Opened on the first listener: DexieProcessStore posts one notice per commit.
    if (channel || typeof BroadcastChannel !== "function") return;
    channel = new BroadcastChannel(`chronicle-processes:${databaseName}`);
    channel.onmessage = () => {
      for (const listener of [...listeners]) listener();
    };
  };
  return {
    list(query) {
      assertOpen();
      return remote.processList(query);
    },
    get(process, id) {
      assertOpen();
      return remote.processGet(process, id);
    },
    deadLetters(reaction) {
      assertOpen();
      return remote.deadLetters(reaction);
    },
    retryDeadLetter(id) {
      assertOpen();
      return remote.retryDeadLetter(id);
    },
    onChange(listener) {
      listeners.add(listener);
      listen();
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
      channel?.close();
      channel = undefined;
    },
  };
}

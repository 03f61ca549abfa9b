// internal: not exported. What the worker gives a sync engine besides the LocalLog: kicks on
// local pending writes (from any tab, through the store's commit notices), a way to say "this
// stream changed" (so projections update everywhere), and status and rejection reports, which
// reach this tab's main thread and, over a BroadcastChannel, every other tab of the app (only
// the leader runs the engine).
import type { Decider, RejectedNotice, SyncContext, SyncStatus } from "@chronicle/core";
import type { HostStatus } from "../shared/host-api.ts";
import type { DexieLocalLog } from "../store/dexie-local-log.ts";
import { OptimisticLocalLog } from "./optimistic-local-log.ts";
import type { OptimisticStates } from "./optimistic-states.ts";

type Relayed =
  | { type: "status"; stream: string; status: SyncStatus }
  | { type: "rejected"; notice: RejectedNotice };

export class SyncBridge {
  readonly #statuses = new Map<string, SyncStatus>();
  readonly #local: DexieLocalLog;
  readonly #emit: (status: HostStatus) => void;
  readonly #channel: BroadcastChannel | undefined;
  /** The log handed to the sync engine: pending lists answered from the optimistic views. */
  readonly localLog: OptimisticLocalLog | undefined;

  constructor(
    name: string,
    local: DexieLocalLog,
    emit: (status: HostStatus) => void,
    states?: OptimisticStates,
  ) {
    this.#local = local;
    this.localLog = states && new OptimisticLocalLog(local, states);
    this.#emit = emit;
    this.#channel =
      typeof BroadcastChannel === "function"
        ? new BroadcastChannel(`chronicle-sync:${name}`)
        : undefined;
    if (this.#channel) {
      this.#channel.onmessage = (message: MessageEvent<Relayed>) => this.#receive(message.data);
    }
  }

  /** The last status of `stream` known in this context. */
  status(stream: string): SyncStatus | undefined {
    return this.#statuses.get(stream);
  }

  /** The context handed to the app's sync starter. */
  context(app: {
    deviceId: string;
    actor: string;
    deciders: readonly Decider<any, any, any>[];
  }): SyncContext {
    const local = this.#local;
    return {
      localLog: this.localLog ?? local,
      ...app,
      onLocalWrite: (listener) => {
        // Told in a task of its own, once per stream for the writes of one task: the engine's
        // pump (its reads, the push) then runs after the command that wrote was answered, not
        // on the way to its answer, and commands fired at once share one kick.
        let due: Set<string> | undefined;
        let stopped = false;
        const unlisten = local.store.onCommit((notice) => {
          if (!notice.pending || stopped) return;
          if (!due) {
            const streams = new Set<string>();
            due = streams;
            afterThisTask(() => {
              due = undefined;
              if (!stopped) for (const stream of streams) listener(stream);
            });
          }
          for (const stream of notice.streams) due.add(stream);
        });
        return () => {
          stopped = true;
          unlisten();
        };
      },
      changed: (stream) => local.store.announce({ streams: [stream] }),
      reportStatus: (stream, status) => this.#relay({ type: "status", stream, status }),
      reportRejected: (notice) => this.#relay({ type: "rejected", notice }),
    };
  }

  close(): void {
    this.#channel?.close();
  }

  #relay(message: Relayed): void {
    this.#receive(message);
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A notice that cannot be cloned (an app's command holding functions) stays in this tab.
    }
  }

  #receive(message: Relayed | undefined): void {
    if (message?.type === "status") {
      this.#statuses.set(message.stream, message.status);
      this.#emit({ type: "sync-status", stream: message.stream, status: message.status });
    } else if (message?.type === "rejected") {
      this.#emit({ type: "sync-rejected", notice: message.notice });
    }
  }
}

// Runs `work` in a task of its own, as soon as the current one (and its microtasks) ended: a
// message to itself, which does not wait for a timer's minimum delay as setTimeout(0) may.
function afterThisTask(work: () => void): void {
  if (typeof MessageChannel !== "function") {
    setTimeout(work, 0);
    return;
  }
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    work();
  };
  port2.postMessage(null);
}

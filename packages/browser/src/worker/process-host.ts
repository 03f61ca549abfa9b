// internal: not exported. Processes and reactions in the browser host (docs/architecture.md,
// "Processes", "In the browser"). Invariants:
// B1. One runner per database: only the leader tab's worker runs one; it is created when
//     leadership starts and stopped when it ends, so a new leader starts from the store (the
//     truth): outboxes a crash left are delivered, deadlines that fell due are fired.
// B2. Deadlines are persisted (ProcessStore); the leader's runner arms one timer for the
//     earliest, and on every start fires the ones that passed while no tab was open.
// B3. Events the node rejects (a RejectedNotice, relayed to the leader like to every tab) are
//     handed to the runner by id: the instance that sent them compensates (runner.refused).
// B4. Any tab may read instances and dead letters (the store); retrying a dead letter runs its
//     handler in the tab that asks.
import type { Decider, EventStore, RejectedNotice } from "@chronicle/core";
import {
  type Clock,
  createProcessRunner,
  type DeadLetter,
  type ListQuery,
  type Process,
  type ProcessInstance,
  type ProcessRunner,
  type Reaction,
  systemClock,
} from "@chronicle/core/process";
import type { DexieProcessStore } from "../store/dexie-process-store.ts";

/** What a {@link ProcessHost} runs, and over what. */
export interface ProcessHostOptions {
  /** The engine as an event store (process-event-store.ts). */
  store: EventStore;
  /** Where instances, checkpoints and dead letters are kept. */
  processStore: DexieProcessStore;
  /** The engine's deciders: the ones process commands go to. */
  deciders: readonly Decider<any, any, any>[];
  /** The processes to run. */
  processes: readonly Process[];
  /** The reactions to run. */
  reactions: readonly Reaction[];
  /** Time for deadlines and retries. */
  clock: Clock | undefined;
  /** `meta.actor` of the events process commands write (the engine's actor). */
  actor: string;
  /** `meta.device` of those events (this installation). */
  device: string;
  /** Hears the runner's errors (it tries again by itself). */
  onError: (error: unknown) => void;
}

/** How long a leader waits before starting its runner again after a failed start. */
const restartMs = 1000;

/** The process runner of one engine: running while the engine leads (B1). */
export class ProcessHost {
  readonly #options: ProcessHostOptions;
  #runner: ProcessRunner | undefined;
  #leading = false;
  #change: Promise<void> = Promise.resolve();
  #restart: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ProcessHostOptions) {
    this.#options = options;
  }

  /** The runner of the leader (undefined in other tabs). @internal For this package's tests. */
  get runner(): ProcessRunner | undefined {
    return this.#runner;
  }

  /** Starts the runner when this engine leads, stops it when it no longer does (B1). */
  setLeader(leader: boolean): Promise<void> {
    this.#leading = leader;
    this.#change = this.#change.then(() => this.#apply());
    return this.#change;
  }

  /** Instances, with state, status, history, outbox and deadlines (B4). */
  list(query?: ListQuery): Promise<ProcessInstance[]> {
    return this.#options.processStore.instances(query);
  }

  /** One instance. */
  get(process: string, id: string): Promise<ProcessInstance | undefined> {
    return this.#options.processStore.instance(process, id);
  }

  /** Reactions' dead letters, oldest first. */
  deadLetters(reaction?: string): Promise<DeadLetter[]> {
    return this.#options.processStore.deadLetters(reaction);
  }

  /** Calls `listener` after every commit of the process store, in any tab; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.#options.processStore.onChange(listener);
  }

  /** Runs a dead letter's handler again, here (B4); true when it succeeded. */
  retryDeadLetter(id: string): Promise<boolean> {
    return (this.#runner ?? this.#create()).retryDeadLetter(id);
  }

  /** A rejection from the sync engine: the instances that sent its events compensate (B3). */
  async rejected(notice: RejectedNotice): Promise<void> {
    const runner = this.#runner;
    if (!runner || notice.events.length === 0) return;
    try {
      await runner.refused(
        notice.events.map((event) => event.id),
        { code: notice.code, message: notice.message },
      );
    } catch (error) {
      this.#options.onError(error);
    }
  }

  /** Stops the runner (the work in progress finishes first). */
  async close(): Promise<void> {
    await this.setLeader(false);
    this.#options.processStore.close();
  }

  async #apply(): Promise<void> {
    clearTimeout(this.#restart);
    if (!this.#leading) {
      const runner = this.#runner;
      this.#runner = undefined;
      await runner?.stop();
      return;
    }
    if (this.#runner) return;
    // A new runner on every leadership: recovery (outboxes, due deadlines) runs from the store.
    const runner = this.#create();
    this.#runner = runner;
    try {
      await runner.start();
    } catch (error) {
      this.#options.onError(error);
      await runner.stop();
      if (this.#runner === runner) this.#runner = undefined;
      this.#restart = setTimeout(() => {
        if (this.#leading) this.#change = this.#change.then(() => this.#apply());
      }, restartMs);
    }
  }

  #create(): ProcessRunner {
    const options = this.#options;
    return createProcessRunner({
      store: options.store,
      processStore: options.processStore,
      deciders: options.deciders,
      processes: options.processes,
      reactions: options.reactions,
      clock: options.clock ?? systemClock,
      actor: options.actor,
      device: options.device,
      onError: options.onError,
    });
  }
}

// internal: not exported. Group commit for commands fired without awaiting. A command on a
// stream with nothing running goes at once, alone (the known-state path keeps its latency);
// the commands that arrive while it runs wait, then run together, in order, in one transaction
// (each decided on the state the previous ones left). Invariants:
// 1. Commands of one stream run in the order they arrived, one transaction at a time.
// 2. Each command is all or nothing, and answered for itself: a command its decider refuses is
//    refused alone, its neighbours commit; an outcome is reported only once its transaction
//    committed (durable).
// 3. A batch whose transaction fails (storage, a conflict with another tab) fails none of its
//    commands by itself: they run again one by one, each reporting its own outcome.
import type { ExecuteResult } from "../shared/host-api.ts";

/** What became of one command of a batch: its result, or why it was refused. */
export type CommandOutcome = { result: ExecuteResult } | { error: unknown };

interface Waiting<Item> {
  item: Item;
  resolve: (result: ExecuteResult) => void;
  reject: (error: unknown) => void;
}

export interface CommandQueueOptions<Item> {
  /** Runs one command (rejects when it is refused). */
  runOne: (stream: string, item: Item) => Promise<ExecuteResult>;
  /** Runs commands of one stream in one transaction; rejects only when that fails. */
  runBatch: (stream: string, items: readonly Item[]) => Promise<CommandOutcome[]>;
  /**
   * The most commands in one transaction.
   *
   * @default 256
   */
  maxBatch?: number;
}

/** Counters for tests and benchmarks. */
export interface CommandQueueStats {
  /** Transactions that ran more than one command. */
  batches: number;
  /** Commands those ran. */
  batched: number;
  /** Batches whose transaction failed (their commands then ran one by one). */
  retried: number;
}

export class CommandQueue<Item> {
  readonly #streams = new Map<string, Waiting<Item>[]>();
  readonly #options: CommandQueueOptions<Item>;
  readonly stats: CommandQueueStats = { batches: 0, batched: 0, retried: 0 };

  constructor(options: CommandQueueOptions<Item>) {
    this.#options = options;
  }

  /** Runs the command after those of the stream that arrived before it. */
  submit(stream: string, item: Item): Promise<ExecuteResult> {
    const queued = this.#streams.get(stream);
    if (queued) {
      return new Promise((resolve, reject) => queued.push({ item, resolve, reject }));
    }
    this.#streams.set(stream, []);
    const first = this.#options.runOne(stream, item);
    void first.then(
      () => this.#drain(stream),
      () => this.#drain(stream),
    );
    return first;
  }

  async #drain(stream: string): Promise<void> {
    const queued = this.#streams.get(stream) ?? [];
    while (queued.length > 0) {
      const batch = queued.splice(0, this.#options.maxBatch ?? 256);
      if (batch.length === 1) {
        const [only] = batch as [Waiting<Item>];
        await this.#options.runOne(stream, only.item).then(only.resolve, only.reject);
        continue;
      }
      let outcomes: CommandOutcome[] | undefined;
      this.stats.batches++;
      this.stats.batched += batch.length;
      try {
        outcomes = await this.#options.runBatch(
          stream,
          batch.map((waiting) => waiting.item),
        );
      } catch {
        this.stats.retried++;
        // Invariant 3: one by one, each with its own outcome.
        for (const waiting of batch) {
          await this.#options.runOne(stream, waiting.item).then(waiting.resolve, waiting.reject);
        }
        continue;
      }
      batch.forEach((waiting, index) => {
        const outcome = outcomes[index];
        if (outcome && "result" in outcome) waiting.resolve(outcome.result);
        else waiting.reject(outcome?.error);
      });
    }
    this.#streams.delete(stream);
  }
}

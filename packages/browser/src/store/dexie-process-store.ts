// Core's ProcessStore over the Chronicle database (docs/architecture.md, "Processes", "In the
// browser"). Every tab may read it; only the leader's process runner writes it, except a
// dead-letter retry asked for in another tab.
import { ChronicleError } from "@chronicle/core";
import type {
  ConsumerRecord,
  DeadLetter,
  InstanceQuery,
  ProcessInstance,
  ProcessStore,
  ProcessWrite,
} from "@chronicle/core/process";
import type { ChronicleDb, DeadLetterRow } from "./schema.ts";
import { toStorageError } from "./storage-errors.ts";

/** What {@link DexieProcessStore} takes. */
export interface DexieProcessStoreOptions {
  /**
   * Hears every commit of a process store on this database, in this context and (over a
   * BroadcastChannel) in other tabs: what the main thread's `processes.subscribe` follows.
   * Notices carry nothing: read the store again.
   */
  broadcast?: boolean;
}

/**
 * Process instances, checkpoints and dead letters in IndexedDB: one `commit` is one
 * transaction over the three tables, so a write is stored whole or not at all (invariant P1).
 *
 * @example
 * const runner = createProcessRunner({
 *   store,
 *   processStore: new DexieProcessStore(store.db),
 *   processes: [fulfilment],
 * });
 */
export class DexieProcessStore implements ProcessStore {
  readonly #listeners = new Set<() => void>();
  readonly #channel: BroadcastChannel | undefined;

  constructor(
    /** The database whose process tables it uses. */
    readonly db: ChronicleDb,
    options: DexieProcessStoreOptions = {},
  ) {
    this.#channel =
      options.broadcast !== false && typeof BroadcastChannel === "function"
        ? new BroadcastChannel(`chronicle-processes:${db.name}`)
        : undefined;
    if (this.#channel) this.#channel.onmessage = () => this.#dispatch();
  }

  async instance(process: string, id: string): Promise<ProcessInstance | undefined> {
    try {
      return await this.db.processInstances.get([process, id]);
    } catch (error) {
      throw toStorageError(error, `read process instance ${process}/${id}`);
    }
  }

  async instances(query: InstanceQuery = {}): Promise<ProcessInstance[]> {
    try {
      // The primary key orders by process, then id.
      const rows =
        query.status === undefined
          ? await this.db.processInstances.toArray()
          : await this.db.processInstances
              .where("status")
              .anyOf([...query.status])
              .toArray();
      return rows
        .filter((row) => query.process === undefined || row.process === query.process)
        .sort((a, b) => compare(a.process, b.process) || compare(a.id, b.id));
    } catch (error) {
      throw toStorageError(error, "list process instances");
    }
  }

  async consumer(name: string): Promise<ConsumerRecord | undefined> {
    try {
      return await this.db.processConsumers.get(name);
    } catch (error) {
      throw toStorageError(error, `read checkpoint ${name}`);
    }
  }

  async deadLetters(reaction?: string): Promise<DeadLetter[]> {
    try {
      const rows = await this.db.processDeadLetters.orderBy("order").toArray();
      return rows
        .filter((row) => reaction === undefined || row.reaction === reaction)
        .map(({ order: _order, ...letter }) => letter);
    } catch (error) {
      throw toStorageError(error, "list dead letters");
    }
  }

  async commit(write: ProcessWrite): Promise<void> {
    const { processInstances, processConsumers, processDeadLetters } = this.db;
    try {
      await this.db.transaction(
        "rw",
        [processInstances, processConsumers, processDeadLetters],
        async () => {
          const writes = write.instance
            ? [write.instance, ...(write.instances ?? [])]
            : (write.instances ?? []);
          // Every revision is checked before anything is put: one stale base writes nothing.
          const found =
            writes.length === 0
              ? []
              : await processInstances.bulkGet(
                  writes.map(({ record }) => [record.process, record.id]),
                );
          for (const [index, { record, expectedRevision }] of writes.entries()) {
            const stored = found[index]?.revision ?? 0;
            if (stored !== expectedRevision) {
              throw new ChronicleError(
                "concurrency",
                `process instance ${record.process}/${record.id}: expected revision ${expectedRevision}, stored ${stored}`,
                {
                  details: {
                    process: record.process,
                    instance: record.id,
                    expectedRevision,
                    stored,
                  },
                },
              );
            }
          }
          if (writes.length > 0) await processInstances.bulkPut(writes.map(({ record }) => record));
          if (write.consumer) {
            const stored = await processConsumers.get(write.consumer.name);
            // A checkpoint never moves back; the retry is the write's.
            const checkpoint = Math.max(stored?.checkpoint ?? 0, write.consumer.checkpoint);
            await processConsumers.put({ ...write.consumer, checkpoint });
          }
          if (write.removeDeadLetter !== undefined) {
            await processDeadLetters.delete(write.removeDeadLetter);
          }
          if (write.deadLetter) {
            const stored = await processDeadLetters.get(write.deadLetter.id);
            const order =
              stored?.order ?? ((await processDeadLetters.orderBy("order").last())?.order ?? 0) + 1;
            const row: DeadLetterRow = { ...write.deadLetter, order };
            await processDeadLetters.put(row);
          }
        },
      );
    } catch (error) {
      throw toStorageError(error, "write process state");
    }
    this.#dispatch();
    try {
      this.#channel?.postMessage(null);
    } catch {
      // A closed channel: this context is going away.
    }
  }

  /** Calls `listener` after every commit on this database (this tab or another); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops hearing other tabs. */
  close(): void {
    this.#listeners.clear();
    this.#channel?.close();
  }

  #dispatch(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

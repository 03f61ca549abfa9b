import { ChronicleError } from "../errors.ts";
import type {
  ConsumerRecord,
  DeadLetter,
  InstanceQuery,
  ProcessInstance,
  ProcessStore,
  ProcessWrite,
} from "./process-store.ts";

/**
 * The reference ProcessStore, in memory: records are copied in and out, so callers never share
 * state with the store.
 *
 * @example
 * const runner = createProcessRunner({ store, processStore: new MemoryProcessStore(), ... });
 */
export class MemoryProcessStore implements ProcessStore {
  readonly #instances = new Map<string, ProcessInstance>();
  readonly #consumers = new Map<string, ConsumerRecord>();
  readonly #deadLetters = new Map<string, DeadLetter>();

  async instance(process: string, id: string): Promise<ProcessInstance | undefined> {
    const record = this.#instances.get(key(process, id));
    return record && structuredClone(record);
  }

  async instances(query: InstanceQuery = {}): Promise<ProcessInstance[]> {
    return [...this.#instances.values()]
      .filter(
        (record) =>
          (query.process === undefined || record.process === query.process) &&
          (query.status === undefined || query.status.includes(record.status)),
      )
      .sort((a, b) => compare(a.process, b.process) || compare(a.id, b.id))
      .map((record) => structuredClone(record));
  }

  async consumer(name: string): Promise<ConsumerRecord | undefined> {
    const record = this.#consumers.get(name);
    return record && structuredClone(record);
  }

  async deadLetters(reaction?: string): Promise<DeadLetter[]> {
    return [...this.#deadLetters.values()]
      .filter((letter) => reaction === undefined || letter.reaction === reaction)
      .map((letter) => structuredClone(letter));
  }

  async commit(write: ProcessWrite): Promise<void> {
    // Check everything, and clone everything, before changing anything: one write is atomic.
    const instances: [string, ProcessInstance][] = [];
    const writes = write.instance ? [write.instance, ...(write.instances ?? [])] : write.instances;
    for (const { record, expectedRevision } of writes ?? []) {
      const k = key(record.process, record.id);
      const stored = this.#instances.get(k)?.revision ?? 0;
      if (stored !== expectedRevision) {
        throw new ChronicleError(
          "concurrency",
          `process instance ${k}: expected revision ${expectedRevision}, stored ${stored}`,
          { details: { process: record.process, instance: record.id, expectedRevision, stored } },
        );
      }
      instances.push([k, structuredClone(record)]);
    }
    let consumer: ConsumerRecord | undefined;
    if (write.consumer) {
      consumer = structuredClone(write.consumer);
      const stored = this.#consumers.get(consumer.name);
      if (stored && stored.checkpoint > consumer.checkpoint)
        consumer.checkpoint = stored.checkpoint;
    }
    const deadLetter = write.deadLetter && structuredClone(write.deadLetter);

    for (const [k, record] of instances) this.#instances.set(k, record);
    if (consumer) this.#consumers.set(consumer.name, consumer);
    if (write.removeDeadLetter !== undefined) this.#deadLetters.delete(write.removeDeadLetter);
    if (deadLetter) this.#deadLetters.set(deadLetter.id, deadLetter);
  }
}

function key(process: string, id: string): string {
  return `${process}/${id}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

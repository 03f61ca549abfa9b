// @chronicle/core/testing/process-store-contract: the behaviour every ProcessStore must have, as
// one Vitest suite: run it against each store (memory, Dexie, the node's Durable Object).
import { describe, expect, it } from "vitest";
import { isChronicleError } from "../../errors.ts";
import type { DeadLetter, ProcessInstance, ProcessStore } from "../process-store.ts";

/** What {@link runProcessStoreContract} needs. */
export interface ProcessStoreContractOptions {
  /** A fresh, empty store. */
  makeStore: () => ProcessStore | Promise<ProcessStore>;
}

/** An instance record for tests. */
export function sampleInstance(
  process: string,
  id: string,
  patch: Partial<ProcessInstance> = {},
): ProcessInstance {
  return {
    process,
    id,
    version: 1,
    status: "waiting",
    state: { stage: "new", tags: ["héllo ✓"] },
    correlationId: `c-${id}`,
    step: 1,
    revision: 1,
    handled: ["e-1"],
    history: [],
    outbox: [],
    deadlines: [{ name: "due", dueAt: 1000, data: null, step: 1 }],
    compensations: [],
    createdAt: 1,
    updatedAt: 1,
    ...patch,
  };
}

function sampleLetter(id: string, reaction: string): DeadLetter {
  return {
    id,
    reaction,
    checkpoint: 3,
    attempts: 5,
    at: 10,
    error: { code: "internal", message: "boom" },
    event: {
      id: "e-3",
      stream: "s-1",
      type: "thing.happened",
      version: 1,
      data: { n: 1 },
      meta: { actor: "a", device: "d", occurredAt: 1, correlationId: "c" },
      position: 1,
      recordedAt: 1,
    },
  };
}

/**
 * Runs the ProcessStore contract.
 *
 * @example
 * runProcessStoreContract("memory", { makeStore: () => new MemoryProcessStore() });
 */
export function runProcessStoreContract(name: string, options: ProcessStoreContractOptions): void {
  describe(`ProcessStore contract: ${name}`, () => {
    it("stores and reads back an instance, as a copy", async () => {
      const store = await options.makeStore();
      const record = sampleInstance("p", "i-1");
      await store.commit({ instance: { record, expectedRevision: 0 } });
      record.handled.push("changed after the write");
      const read = await store.instance("p", "i-1");
      expect(read).toEqual(sampleInstance("p", "i-1"));
      read!.handled.push("changed after the read");
      expect(await store.instance("p", "i-1")).toEqual(sampleInstance("p", "i-1"));
      expect(await store.instance("p", "other")).toBeUndefined();
    });

    it("refuses a write from a stale revision with concurrency, writing nothing of it", async () => {
      const store = await options.makeStore();
      await store.commit({ instance: { record: sampleInstance("p", "i-1"), expectedRevision: 0 } });
      const stale = store.commit({
        instance: {
          record: sampleInstance("p", "i-1", { revision: 2, step: 9 }),
          expectedRevision: 0,
        },
        consumer: { name: "process:p", checkpoint: 7 },
      });
      await expect(stale).rejects.toSatisfy((error) => isChronicleError(error, "concurrency"));
      expect((await store.instance("p", "i-1"))?.step).toBe(1);
      expect(await store.consumer("process:p")).toBeUndefined();
      await store.commit({
        instance: {
          record: sampleInstance("p", "i-1", { revision: 2, step: 2 }),
          expectedRevision: 1,
        },
      });
      expect((await store.instance("p", "i-1"))?.step).toBe(2);
    });

    it("writes an instance and a checkpoint together", async () => {
      const store = await options.makeStore();
      await store.commit({
        instance: { record: sampleInstance("p", "i-1"), expectedRevision: 0 },
        consumer: { name: "process:p", checkpoint: 4 },
      });
      expect(await store.consumer("process:p")).toEqual({ name: "process:p", checkpoint: 4 });
    });

    it("writes several instances and a checkpoint in one write", async () => {
      const store = await options.makeStore();
      await store.commit({ instance: { record: sampleInstance("p", "i-1"), expectedRevision: 0 } });
      await store.commit({
        instances: [
          { record: sampleInstance("p", "i-1", { revision: 2, step: 2 }), expectedRevision: 1 },
          { record: sampleInstance("p", "i-2"), expectedRevision: 0 },
          { record: sampleInstance("q", "i-1", { status: "done" }), expectedRevision: 0 },
        ],
        consumer: { name: "process:p", checkpoint: 9 },
      });
      expect((await store.instance("p", "i-1"))?.step).toBe(2);
      expect(await store.instance("p", "i-2")).toEqual(sampleInstance("p", "i-2"));
      expect((await store.instance("q", "i-1"))?.status).toBe("done");
      expect((await store.consumer("process:p"))?.checkpoint).toBe(9);
    });

    it("refuses a write of several instances when one revision is stale, writing none of it", async () => {
      const store = await options.makeStore();
      await store.commit({ instance: { record: sampleInstance("p", "i-2"), expectedRevision: 0 } });
      const stale = store.commit({
        instances: [
          { record: sampleInstance("p", "i-1"), expectedRevision: 0 },
          { record: sampleInstance("p", "i-2", { revision: 2, step: 2 }), expectedRevision: 0 },
          { record: sampleInstance("p", "i-3"), expectedRevision: 0 },
        ],
        consumer: { name: "process:p", checkpoint: 9 },
      });
      await expect(stale).rejects.toSatisfy((error) => isChronicleError(error, "concurrency"));
      expect(await store.instance("p", "i-1")).toBeUndefined();
      expect((await store.instance("p", "i-2"))?.step).toBe(1);
      expect(await store.instance("p", "i-3")).toBeUndefined();
      expect(await store.consumer("process:p")).toBeUndefined();
    });

    it("never moves a checkpoint back, and keeps a reaction's retry", async () => {
      const store = await options.makeStore();
      await store.commit({ consumer: { name: "reaction:r", checkpoint: 5 } });
      await store.commit({ consumer: { name: "reaction:r", checkpoint: 3 } });
      expect((await store.consumer("reaction:r"))?.checkpoint).toBe(5);
      const retry = {
        checkpoint: 6,
        eventId: "e-6",
        attempt: 2,
        dueAt: 99,
        error: { code: "internal", message: "x" },
      };
      await store.commit({ consumer: { name: "reaction:r", checkpoint: 5, retry } });
      expect(await store.consumer("reaction:r")).toEqual({
        name: "reaction:r",
        checkpoint: 5,
        retry,
      });
      await store.commit({ consumer: { name: "reaction:r", checkpoint: 6 } });
      expect(await store.consumer("reaction:r")).toEqual({ name: "reaction:r", checkpoint: 6 });
    });

    it("lists instances by process and status, ordered by process then id", async () => {
      const store = await options.makeStore();
      for (const [process, id, status] of [
        ["q", "b", "done"],
        ["p", "b", "waiting"],
        ["p", "a", "running"],
      ] as const) {
        await store.commit({
          instance: { record: sampleInstance(process, id, { status }), expectedRevision: 0 },
        });
      }
      const keys = (list: ProcessInstance[]) =>
        list.map((record) => `${record.process}/${record.id}`);
      expect(keys(await store.instances())).toEqual(["p/a", "p/b", "q/b"]);
      expect(keys(await store.instances({ process: "p" }))).toEqual(["p/a", "p/b"]);
      expect(keys(await store.instances({ status: ["running", "done"] }))).toEqual(["p/a", "q/b"]);
    });

    it("adds, replaces and removes dead letters, with the checkpoint in the same write", async () => {
      const store = await options.makeStore();
      await store.commit({
        consumer: { name: "reaction:r", checkpoint: 3 },
        deadLetter: sampleLetter("r/e-3", "r"),
      });
      await store.commit({ deadLetter: sampleLetter("s/e-3", "s") });
      expect((await store.deadLetters()).map((letter) => letter.id).sort()).toEqual([
        "r/e-3",
        "s/e-3",
      ]);
      expect(await store.deadLetters("r")).toEqual([sampleLetter("r/e-3", "r")]);
      expect((await store.consumer("reaction:r"))?.checkpoint).toBe(3);
      await store.commit({ deadLetter: { ...sampleLetter("r/e-3", "r"), attempts: 6 } });
      expect((await store.deadLetters("r"))[0]?.attempts).toBe(6);
      await store.commit({ removeDeadLetter: "r/e-3" });
      expect(await store.deadLetters("r")).toEqual([]);
    });
  });
}

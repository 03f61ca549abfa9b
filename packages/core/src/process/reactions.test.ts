import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEvent } from "../events/define-event.ts";
import { createEnvelope } from "../events/envelope.ts";
import { MemoryEventStore } from "../store/memory-store.ts";
import { createVirtualClock } from "./clock.ts";
import { defineReaction, type ReactionContext } from "./define-reaction.ts";
import { MemoryProcessStore } from "./memory-process-store.ts";
import { createProcessRunner } from "./process-runner.ts";
import type { ProcessWrite } from "./process-store.ts";

const paid = defineEvent({ type: "invoice.paid", schema: z.object({ invoice: z.string() }) });

function setup(handle: (invoice: string, context: ReactionContext) => void, maxAttempts = 5) {
  const clock = createVirtualClock(0);
  const store = new MemoryEventStore({ now: clock.now });
  const processStore = new MemoryProcessStore();
  const writes: ProcessWrite[] = [];
  const commit = processStore.commit.bind(processStore);
  processStore.commit = async (write) => {
    writes.push(structuredClone(write));
    return commit(write);
  };
  const reaction = defineReaction({
    name: "send-receipt",
    events: [paid],
    handle: (event, context) => handle(event.data.invoice, context),
    retry: { maxAttempts, backoffMs: 1000 },
  });
  const runner = createProcessRunner({ store, processStore, clock, reactions: [reaction] });
  const append = async (invoice: string) => {
    const event = createEnvelope(`invoice-${invoice}`, {
      type: "invoice.paid",
      version: 1,
      data: { invoice },
    });
    await store.append(`invoice-${invoice}`, [event]);
    return event;
  };
  return { clock, store, runner, writes, append };
}

describe("reactions", () => {
  it("retries a failing handler with backoff: thrown twice, called three times, checkpointed once", async () => {
    const calls: ReactionContext[] = [];
    const s = setup((_invoice, context) => {
      calls.push(context);
      if (calls.length <= 2) throw new Error(`down (${calls.length})`);
    });
    await s.append("i-1");
    await s.runner.drain();
    expect(calls).toHaveLength(1);
    s.clock.advance(999);
    await s.runner.drain();
    expect(calls).toHaveLength(1); // the first backoff is 1000 ms
    s.clock.advance(1);
    await s.runner.drain();
    expect(calls).toHaveLength(2);
    s.clock.advance(2000); // then doubled
    await s.runner.drain();
    expect(calls.map((call) => call.attempt)).toEqual([1, 2, 3]);
    expect(new Set(calls.map((call) => call.idempotencyKey)).size).toBe(1);
    const advanced = s.writes.filter(
      (write) => write.consumer?.checkpoint === 1 && !write.consumer.retry,
    );
    expect(advanced).toHaveLength(1);
    expect(await s.runner.deadLetters()).toEqual([]);
  });

  it("keeps order: nothing after a failing event is handled before it succeeds", async () => {
    const seen: string[] = [];
    let failures = 1;
    const s = setup((invoice) => {
      if (invoice === "i-1" && failures-- > 0) throw new Error("down");
      seen.push(invoice);
    });
    await s.append("i-1");
    await s.append("i-2");
    await s.runner.drain();
    expect(seen).toEqual([]);
    s.clock.advance(1000);
    await s.runner.drain();
    expect(seen).toEqual(["i-1", "i-2"]);
  });

  it("dead-letters an event whose handler always throws, with its error, and goes on", async () => {
    const seen: string[] = [];
    const s = setup((invoice) => {
      if (invoice === "i-1") throw new Error("mailer rejected the address");
      seen.push(invoice);
    }, 3);
    const event = await s.append("i-1");
    await s.append("i-2");
    for (let i = 0; i < 5; i++) {
      await s.runner.drain();
      s.clock.advance(10_000);
    }
    const letters = await s.runner.deadLetters("send-receipt");
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: `send-receipt/${event.id}`,
      reaction: "send-receipt",
      attempts: 3,
      error: { code: "internal", message: "mailer rejected the address" },
      event: { id: event.id },
    });
    expect(seen).toEqual(["i-2"]);
  });

  it("retries a dead letter on request", async () => {
    let broken = true;
    const s = setup((invoice) => {
      if (broken && invoice === "i-1") throw new Error("down");
    }, 1);
    const event = await s.append("i-1");
    await s.runner.drain();
    const id = `send-receipt/${event.id}`;
    expect(await s.runner.retryDeadLetter(id)).toBe(false);
    expect((await s.runner.deadLetters())[0]?.attempts).toBe(2);
    broken = false;
    expect(await s.runner.retryDeadLetter(id)).toBe(true);
    expect(await s.runner.deadLetters()).toEqual([]);
  });

  it("a started runner retries on its clock", async () => {
    let calls = 0;
    const s = setup(() => {
      calls++;
      if (calls === 1) throw new Error("down");
    });
    await s.runner.start();
    await s.append("i-1");
    await expect.poll(() => calls).toBe(1);
    await expect.poll(() => s.clock.pendingTimers).toBe(1);
    s.clock.advance(1000);
    await expect.poll(() => calls).toBe(2);
    await s.runner.stop();
  });
});

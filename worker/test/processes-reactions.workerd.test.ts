// Reactions on the sync node (docs/architecture.md, "Processes", "On the sync node"): a handler
// that throws twice then succeeds is called three times, its retries woken by the host's alarm,
// and checkpoints once; a handler that always throws lands in the dead-letter list with its
// error, which `GET /v1/reactions/:name/dead-letters` shows to a token granted reaction:<name>.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { createVirtualClock, type DeadLetter, defineReaction } from "@chronicle/core/process";
import { describe, expect, it, vi } from "vitest";
import { createSyncNode } from "../src/index.ts";
import { events, fetchApp, freshStream, nodeEnv, pushHttp, token } from "./node-client.ts";
import { cardAdded } from "./tally-app.ts";

const clock = createVirtualClock(Date.now());
/** Calls per event id, and the idempotency keys the handler was given. */
const calls = new Map<string, { attempts: number[]; keys: Set<string> }>();
const mailer = defineReaction({
  name: "card-mailer",
  events: [cardAdded],
  handle: (event, { attempt, idempotencyKey }) => {
    const seen = calls.get(event.id) ?? { attempts: [], keys: new Set<string>() };
    seen.attempts.push(attempt);
    seen.keys.add(idempotencyKey);
    calls.set(event.id, seen);
    if (event.data.tag === "broken") throw new Error("the mail server refuses it");
    if (event.data.tag === "flaky" && attempt < 3) throw new Error(`try ${attempt} failed`);
  },
  retry: { maxAttempts: 3, backoffMs: 1000 },
});
const app = createSyncNode({ reactions: [mailer], processClock: clock });
const host = () =>
  nodeEnv.PROCESS_HOST!.get(nodeEnv.PROCESS_HOST!.idFromName("reaction:card-mailer"));

const consumer = () =>
  runInDurableObject(host(), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ body: string }>(`SELECT body FROM consumers WHERE name = 'reaction:card-mailer'`)
      .toArray()[0];
    return row && (JSON.parse(row.body) as { checkpoint: number; retry?: { dueAt: number } });
  });

/** Waits (polling, never a fixed time) until the event's handler was called `n` times. */
const calledTimes = (id: string, n: number) =>
  vi.waitFor(() => expect(calls.get(id)?.attempts.length).toBe(n), {
    timeout: 10_000,
    interval: 20,
  });

/** Lets the reaction's retry fall due and wakes the host with its alarm. */
async function nextRetry() {
  const retry = (await consumer())?.retry;
  expect(retry).toBeDefined();
  clock.set(retry!.dueAt);
  expect(await runDurableObjectAlarm(host())).toBe(true);
}

describe("reactions on the sync node", () => {
  it("retries a failing handler from the host's alarm: three calls, one checkpoint", async () => {
    const stream = freshStream();
    const [event] = events(stream, 1, "flaky");
    expect((await pushHttp(stream, { events: [event] })).status).toBe(200);
    await calledTimes(event!.id, 1);
    await vi.waitFor(async () => expect((await consumer())?.retry).toBeDefined(), {
      timeout: 10_000,
      interval: 20,
    });
    await nextRetry();
    expect(calls.get(event!.id)?.attempts).toEqual([1, 2]);
    await nextRetry();
    expect(calls.get(event!.id)?.attempts).toEqual([1, 2, 3]);
    // One idempotency key for the event, whatever the attempt.
    expect(calls.get(event!.id)?.keys.size).toBe(1);
    expect(await consumer()).toEqual({ name: "reaction:card-mailer", checkpoint: 1 });
    // Nothing left to wake for.
    expect(await runInDurableObject(host(), (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("dead-letters a handler that always throws, shown by the route to a granted token", async () => {
    const stream = freshStream();
    const [event] = events(stream, 1, "broken");
    expect((await pushHttp(stream, { events: [event] })).status).toBe(200);
    await calledTimes(event!.id, 1);
    await vi.waitFor(async () => expect((await consumer())?.retry).toBeDefined(), {
      timeout: 10_000,
      interval: 20,
    });
    await nextRetry();
    await nextRetry();
    expect(calls.get(event!.id)?.attempts).toEqual([1, 2, 3]);
    expect((await consumer())?.retry).toBeUndefined();

    const response = await fetchApp(app, "/v1/reactions/card-mailer/dead-letters", {
      headers: {
        Authorization: `Bearer ${await token({ "reaction:card-mailer": "read" }, "ops")}`,
      },
    });
    expect(response.status).toBe(200);
    const { deadLetters } = (await response.json()) as { deadLetters: DeadLetter[] };
    expect(deadLetters).toMatchObject([
      {
        id: `card-mailer/${event!.id}`,
        reaction: "card-mailer",
        attempts: 3,
        error: { code: "internal", message: "the mail server refuses it" },
        event: { id: event!.id, stream, type: "card.added" },
      },
    ]);
    // The next event is handled: one dead letter does not stop the reaction.
    const [after] = events(stream, 1, "fine");
    expect((await pushHttp(stream, { events: [after] })).status).toBe(200);
    await calledTimes(after!.id, 1);
  });
});

// Process throughput on the node (#15, "Benchmarks"): one process type with 1,000 instances, fed
// 2,000 events through the stream logs' feed RPC and handled by its ProcessHost (one SQLite
// write per event: P1), against the same events folded per instance by a plain projection in
// memory. It asserts that every event was handled exactly once, and prints events per second and
// the ratio (a measurement, not a target: it depends on the machine).
import { runDurableObjectAlarm } from "cloudflare:test";
import { type ConfirmedEvent, createEnvelope, defineProjection, foldEvents } from "@chronicle/core";
import { defineProcess } from "@chronicle/core/process";
import { expect, it } from "vitest";
import { createSyncNode } from "../src/index.ts";
import { nodeEnv } from "./node-client.ts";
import { cardAdded } from "./tally-app.ts";

const instances = 1_000;
const total = 2_000;

const counter = defineProcess({
  name: "card-counter",
  events: [cardAdded],
  correlate: (event) => event.data.tag,
  initialState: { count: 0 },
  on: { "card.added": (state) => ({ state: { count: state.count + 1 } }) },
});
// The same state per instance, folded by a plain projection over each instance's events.
const count = defineProjection({
  name: "card-count",
  events: [cardAdded],
  initialState: { count: 0 },
  handlers: { "card.added": (state) => ({ count: state.count + 1 }) },
});
createSyncNode({ processes: [counter] });

const key = "process:card-counter";
const host = () => nodeEnv.PROCESS_HOST!.get(nodeEnv.PROCESS_HOST!.idFromName(key));

function confirmed(n: number): ConfirmedEvent {
  const stream = `card:${n % instances}`;
  return {
    ...createEnvelope(
      stream,
      { type: "card.added", version: 1, data: { tag: `t${n % instances}`, index: n } },
      { actor: "bench", device: "bench" },
    ),
    position: Math.floor(n / instances) + 1,
    recordedAt: n,
  };
}

it(`handles ${total} events of ${instances} instances, each once,, and reports the throughput`, async () => {
  const events = Array.from({ length: total }, (_, n) => confirmed(n));

  const foldStart = performance.now();
  const byInstance = new Map<string, ConfirmedEvent[]>();
  for (const event of events) {
    const tag = (event.data as { tag: string }).tag;
    byInstance.set(tag, [...(byInstance.get(tag) ?? []), event]);
  }
  const folded: Record<string, number> = {};
  for (const [tag, own] of byInstance)
    folded[tag] = foldEvents(count, count.initialState, own).count;
  const foldMs = performance.now() - foldStart;

  const start = Date.now();
  for (let page = 0; page < total; page += 100) {
    expect(await host().feed(key, events.slice(page, page + 100))).toEqual({
      ok: true,
      value: 100,
    });
  }
  // The alarm's drain joins the one the feeds started and returns when nothing is left.
  await runDurableObjectAlarm(host());
  const hostMs = Date.now() - start;

  const response = await createSyncNode().fetch(
    new Request("http://node.test/v1/processes/card-counter?limit=1000", {
      headers: {
        Authorization: `Bearer ${await import("./node-client.ts").then((m) => m.token())}`,
      },
    }),
    nodeEnv,
  );
  const listed = (await response.json()) as {
    instances: { id: string; state: { count: number } }[];
  };
  expect(listed.instances).toHaveLength(instances);
  for (const instance of listed.instances) expect(instance.state.count).toBe(folded[instance.id]);

  const perSecond = (ms: number) => Math.round(total / (Math.max(ms, 0.001) / 1000));
  console.log(
    `process host: ${total} events, ${instances} instances in ${hostMs} ms (${perSecond(hostMs)}/s); ` +
      `projection fold: ${foldMs.toFixed(1)} ms (${perSecond(foldMs)}/s); ratio ${(hostMs / Math.max(foldMs, 0.001)).toFixed(0)}x`,
  );
}, 300_000);

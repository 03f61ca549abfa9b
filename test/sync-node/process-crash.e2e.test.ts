// Processes on a real sync node (`wrangler dev`, killed for real): the order-fulfilment example's
// process runs on the node while the node is SIGKILLed (whole process group, no shutdown) between
// its steps and restarted on the same state directory. Every instance finishes, no command is
// applied twice (the events in the target streams are counted) and nothing is lost. The kills:
// right after the orders are acknowledged; as soon as the first instance is seen at work (the
// others mid-way); right after the payments are captured. Between them only the node's own
// alarms and feeds drive the work: the test reads the process route, which wakes no stream log.
// docs/architecture.md, "Processes", "On the sync node".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CommandOf,
  createEnvelope,
  type Decider,
  foldEvents,
  initialStateOf,
} from "@chronicle/core";
import type { ProcessInstance } from "@chronicle/core/process";
import { afterAll, expect, it } from "vitest";
import { order, payment, refusedCard, stock } from "../../examples/order-fulfilment.ts";
import { devToken, type RunningNode, startNode } from "./node-process.ts";
import { readLog } from "./ws-client.ts";

const config = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../worker/test/processes-node.wrangler.toml",
);
const vars = { CHRONICLE_SECRET: "process-e2e-secret-at-least-32-bytes!", CHRONICLE_DEV: "1" };
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-process-crash-"));
const nodes: RunningNode[] = [];
afterAll(async () => {
  for (const node of nodes) await node.stop("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

async function start(): Promise<{ node: RunningNode; token: string }> {
  const node = await startNode({ persistTo: stateDir, config, vars });
  nodes.push(node);
  return { node, token: await devToken(node, "shop") };
}

type Typed = { id: string; type: string; meta: { actor: string } };

async function log(node: RunningNode, token: string, stream: string): Promise<Typed[]> {
  return (await readLog(node.url, stream, token)).events as unknown as Typed[];
}

/** A client's command: decide on the node's log, push with the head it decided on. */
async function execute<D extends Decider>(
  node: RunningNode,
  token: string,
  stream: string,
  decider: D,
  command: CommandOf<D>,
): Promise<void> {
  const events = await log(node, token, stream);
  const state = foldEvents(decider, initialStateOf(decider), events as never[]);
  const fresh = decider
    .decide(command, state)
    .map((event) =>
      createEnvelope(stream, decider.registry.validate(event), { actor: "shop", device: "till" }),
    );
  const response = await fetch(`${node.url}/v1/streams/${stream}/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ events: fresh, expected: events.length }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** The process's instances, from the node's observability route (wakes no stream log). */
async function instances(node: RunningNode, token: string): Promise<ProcessInstance[]> {
  const response = await fetch(`${node.url}/v1/processes/order-fulfilment?limit=1000`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { instances: ProcessInstance[] }).instances;
}

/** Waits (polling the node's answers, never a fixed time) until every order is at `stage`. */
async function untilInstances(
  node: RunningNode,
  token: string,
  expected: Record<string, (instance: ProcessInstance) => boolean>,
): Promise<ProcessInstance[]> {
  let last: ProcessInstance[] = [];
  await expect
    .poll(
      async () => {
        last = await instances(node, token);
        return Object.entries(expected).every(([id, done]) => {
          const found = last.find((instance) => instance.id === id);
          return found !== undefined && found.outbox.length === 0 && done(found);
        });
      },
      { timeout: 30_000, interval: 50 },
    )
    .toBe(true);
  return last;
}

const stage = (instance: ProcessInstance) => (instance.state as { stage: string }).stage;
const card = "4242-4242-4242-4242";

it("finishes every order exactly once across SIGKILLs between the process's steps", async () => {
  const paid = Array.from({ length: 10 }, (_, n) => `o-${n + 1}`);
  const refused = "o-refused";
  const sku = "tea";

  // Kill 1: right after the orders are acknowledged, before the process could handle them.
  let { node, token } = await start();
  await execute(node, token, `stock-${sku}`, stock, { type: "receive", quantity: 100 });
  // At once: the process is busy with some orders while others are still arriving.
  await Promise.all(
    [...paid, refused].map((id) =>
      execute(node, token, `order-${id}`, order, {
        type: "place",
        orderId: id,
        sku,
        quantity: 2,
        amount: 12,
        card: id === refused ? refusedCard : card,
      }),
    ),
  );
  await node.stop("SIGKILL");

  // Kill 2: as soon as the first instance is seen at work, mid-way through the others.
  ({ node, token } = await start());
  await expect
    .poll(async () => (await instances(node, token)).length > 0, { timeout: 30_000, interval: 10 })
    .toBe(true);
  await node.stop("SIGKILL");

  // Every paid order is charged, the refused one compensated.
  ({ node, token } = await start());
  await untilInstances(node, token, {
    ...Object.fromEntries(paid.map((id) => [id, (i: ProcessInstance) => stage(i) === "charging"])),
    [refused]: (i) => i.status === "compensated",
  });

  // Kill 3: right after the payments are captured.
  await Promise.all(
    paid.map((id) =>
      execute(node, token, `payment-${id}`, payment, { type: "capture", orderId: id }),
    ),
  );
  await node.stop("SIGKILL");

  ({ node, token } = await start());
  const final = await untilInstances(node, token, {
    ...Object.fromEntries(paid.map((id) => [id, (i: ProcessInstance) => i.status === "done"])),
    [refused]: (i) => i.status === "compensated",
  });
  for (const instance of final) expect(instance.deadlines).toEqual([]);

  // Exactly once: every command's events are in their streams once, written as the node.
  const types = async (stream: string) => (await log(node, token, stream)).map((e) => e.type);
  for (const id of paid) {
    expect(await types(`order-${id}`)).toEqual(["order.placed", "order.completed"]);
    expect(await types(`payment-${id}`)).toEqual(["payment.requested", "payment.captured"]);
  }
  expect(await types(`order-${refused}`)).toEqual(["order.placed", "order.cancelled"]);
  expect(await types(`payment-${refused}`)).toEqual([]);
  const stockLog = await log(node, token, `stock-${sku}`);
  const count = (type: string) => stockLog.filter((event) => event.type === type).length;
  expect(count("stock.received")).toBe(1);
  expect(count("stock.reserved")).toBe(paid.length + 1);
  expect(count("stock.released")).toBe(1);
  expect(stockLog.filter((e) => e.type !== "stock.received").map((e) => e.meta.actor)).toEqual(
    Array(paid.length + 2).fill("chronicle-node"),
  );
  await node.stop();
  // Four starts of wrangler dev (each a few seconds, up to half a minute on a loaded machine).
}, 240_000);

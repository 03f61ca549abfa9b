// The order-fulfilment example end to end on a real node (`wrangler dev`) with two devices
// watching the order's stream over real WebSockets: the shop's till places the order, the
// process on the node reserves stock and charges the card, the gateway captures, and both
// devices see the node's outcome live: completed (happy path), cancelled with the stock released
// (card refused: compensated), cancelled when nobody pays within 15 minutes (timeout).
// docs/architecture.md, "Processes", "On the sync node".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type CommandOf,
  type ConfirmedEvent,
  createEnvelope,
  type Decider,
  foldEvents,
  initialStateOf,
} from "@chronicle/core";
import type { ProcessInstance } from "@chronicle/core/process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  order,
  payment,
  paymentWindowMs,
  refusedCard,
  stock,
} from "../../examples/order-fulfilment.ts";
import { devToken, type RunningNode, startNode } from "./node-process.ts";
import { ProtocolClient, readLog } from "./ws-client.ts";

const config = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../worker/test/processes-node.wrangler.toml",
);
const vars = { CHRONICLE_SECRET: "process-e2e-secret-at-least-32-bytes!", CHRONICLE_DEV: "1" };
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-process-devices-"));
let node: RunningNode;
let token: string;

beforeAll(async () => {
  node = await startNode({ persistTo: stateDir, config, vars });
  token = await devToken(node, "shop");
});
afterAll(async () => {
  await node?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

type Logged = ConfirmedEvent & { meta: { actor: string } };

async function log(stream: string): Promise<Logged[]> {
  return (await readLog(node.url, stream, token)).events as unknown as Logged[];
}

/** The events a command decides on the node's current log, ready to push at `expected`. */
async function decide<D extends Decider>(stream: string, decider: D, command: CommandOf<D>) {
  const events = await log(stream);
  const state = foldEvents(decider, initialStateOf(decider), events as never[]);
  const fresh = decider
    .decide(command, state)
    .map((event) =>
      createEnvelope(stream, decider.registry.validate(event), { actor: "shop", device: "till" }),
    );
  return { events: fresh, expected: events.length };
}

async function pushHttp<D extends Decider>(stream: string, decider: D, command: CommandOf<D>) {
  const response = await fetch(`${node.url}/v1/streams/${stream}/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(await decide(stream, decider, command)),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** A device watching a stream: every event it learned, live, in position order. */
class Device {
  private constructor(readonly client: ProtocolClient) {}

  static async watch(stream: string, name: string): Promise<Device> {
    const client = await ProtocolClient.connect(
      node.wsUrl,
      stream,
      await devToken(node, name, { [stream]: "write" }),
    );
    client.send({ t: "hello", protocol: 1, after: 0 });
    await client.waitFor((frame) => frame.t === "welcome");
    return new Device(client);
  }

  /** The events this device received from the node (not its own pushes' acks). */
  received(): Logged[] {
    return this.client.frames.flatMap((frame) =>
      frame.t === "events" ? (frame.events as unknown as Logged[]) : [],
    );
  }

  /** Waits for a live event of `type` (frames, never a fixed time). */
  async until(type: string): Promise<Logged> {
    await this.client.waitFor(
      (frame) => frame.t === "events" && frame.events.some((event) => event.type === type),
    );
    return this.received().find((event) => event.type === type)!;
  }
}

async function instance(id: string): Promise<ProcessInstance | undefined> {
  const response = await fetch(`${node.url}/v1/processes/order-fulfilment/${id}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (response.status === 404) return undefined;
  return ((await response.json()) as { instance: ProcessInstance }).instance;
}

const card = "4242-4242-4242-4242";
const types = async (stream: string) => (await log(stream)).map((event) => event.type);

/** The till (device A) places the order over its socket; device B only watches. */
async function placeOrder(id: string, sku: string, cardNumber: string) {
  await pushHttp(`stock-${sku}`, stock, { type: "receive", quantity: 5 });
  const stream = `order-${id}`;
  const [till, watcher] = [await Device.watch(stream, "till"), await Device.watch(stream, "ops")];
  const { events } = await decide(stream, order, {
    type: "place",
    orderId: id,
    sku,
    quantity: 1,
    amount: 9,
    card: cardNumber,
  });
  expect((await till.client.push("place", events)).t).toBe("ack");
  await watcher.until("order.placed");
  return { till, watcher, stream };
}

describe("the order example on a real node, two devices watching", () => {
  it("happy path: both devices see the node complete the order", async () => {
    const { till, watcher, stream } = await placeOrder("happy", "tea", card);
    // The gateway's callback captures once the process has charged the card.
    await expect.poll(() => types("payment-happy")).toEqual(["payment.requested"]);
    await pushHttp("payment-happy", payment, { type: "capture", orderId: "happy" });

    for (const device of [till, watcher]) {
      const completed = await device.until("order.completed");
      expect(completed.meta.actor).toBe("chronicle-node");
    }
    const nodeLog = (await log(stream)).map((event) => [event.position, event.id]);
    expect(nodeLog.map(([position]) => position)).toEqual([1, 2]);
    for (const device of [till, watcher]) {
      await device.client.waitForLog(2);
      expect([...device.client.log.entries()].sort((a, b) => a[0] - b[0])).toEqual(nodeLog);
      device.client.close();
    }
    expect(await types("stock-tea")).toEqual(["stock.received", "stock.reserved"]);
    await expect.poll(async () => (await instance("happy"))?.status).toBe("done");
  });

  it("card refused: both devices see the order cancelled; stock released; compensated", async () => {
    const { till, watcher } = await placeOrder("refused", "coffee", refusedCard);
    for (const device of [till, watcher]) {
      const cancelled = await device.until("order.cancelled");
      expect(cancelled.data).toEqual({ orderId: "refused", reason: "could not be fulfilled" });
      device.client.close();
    }
    expect(await types("stock-coffee")).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await types("payment-refused")).toEqual([]);
    await expect.poll(async () => (await instance("refused"))?.status).toBe("compensated");
  });

  it("payment timeout: both devices see the order cancelled after 15 minutes", async () => {
    const { till, watcher } = await placeOrder("late", "cocoa", card);
    await expect
      .poll(async () => {
        const found = await instance("late");
        return found?.status === "waiting" && found.outbox.length === 0 ? found.step : 0;
      })
      .toBe(2);
    const response = await fetch(`${node.url}/test/clock`, {
      method: "POST",
      body: JSON.stringify({ advanceMs: paymentWindowMs }),
    });
    expect(await response.json()).toMatchObject({ woken: true });
    for (const device of [till, watcher]) {
      const cancelled = await device.until("order.cancelled");
      expect(cancelled.data).toEqual({ orderId: "late", reason: "not paid within 15 minutes" });
      device.client.close();
    }
    // The timeout sends the cancel before the release (examples/order-fulfilment.ts), each to its
    // own stream: the release may land after the devices saw the cancellation.
    await expect
      .poll(() => types("stock-cocoa"))
      .toEqual(["stock.received", "stock.reserved", "stock.released"]);
    expect(await instance("late")).toMatchObject({ status: "done", state: { stage: "expired" } });
  });
});

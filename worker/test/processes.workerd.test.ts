// Processes and reactions on the sync node (docs/architecture.md, "Processes", "On the sync
// node"), with the order-fulfilment example's definitions: events pushed by clients reach the
// process through the stream logs, its commands land in the target streams exactly once (events
// counted), a feed repeated is handled once, the payment deadline fires from the host's alarm,
// a refused card compensates, and `GET /v1/processes/:name` shows it all to a granted token.
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import {
  type CommandOf,
  createEnvelope,
  type Decider,
  foldEvents,
  initialStateOf,
} from "@chronicle/core";
import { createVirtualClock, type ProcessInstance } from "@chronicle/core/process";
import { describe, expect, it, vi } from "vitest";
import {
  order,
  orderFulfilment,
  payment,
  paymentWindowMs,
  receiptMailer,
  refusedCard,
  stock,
} from "../../examples/order-fulfilment.ts";
import { createSyncNode } from "../src/index.ts";
import { NODE_ACTOR } from "../src/processes/definitions.ts";
import { fetchApp, logOf, nodeEnv, pushHttp, token } from "./node-client.ts";

const clock = createVirtualClock(Date.now());
const mails: { orderId: string; idempotencyKey: string }[] = [];
const mailer = receiptMailer(mails);
const app = createSyncNode({
  processes: [orderFulfilment],
  reactions: [mailer],
  deciders: [order, stock, payment],
  processClock: clock,
});

const card = "4242-4242-4242-4242";
const hostKey = "process:order-fulfilment";
const host = () => nodeEnv.PROCESS_HOST!.get(nodeEnv.PROCESS_HOST!.idFromName(hostKey));

let counter = 0;
/** An order id (and sku) no other test uses. */
function fresh(name: string): string {
  counter += 1;
  return `${name}${Date.now().toString(36)}${counter}`;
}

/** A client's command: decide on the node's log, push with the head it decided on. */
async function execute<D extends Decider>(stream: string, decider: D, command: CommandOf<D>) {
  const log = await logOf(stream);
  const state = foldEvents(decider, initialStateOf(decider), log as never[]);
  const events = decider
    .decide(command, state)
    .map((event) =>
      createEnvelope(stream, decider.registry.validate(event), { actor: "shop", device: "till" }),
    );
  const response = await pushHttp(stream, { events, expected: log.length });
  expect(response.status).toBe(200);
}

async function types(stream: string): Promise<string[]> {
  return (await logOf(stream)).map((event) => (event as unknown as { type: string }).type);
}

async function instance(id: string): Promise<ProcessInstance | undefined> {
  const response = await fetchApp(app, `/v1/processes/order-fulfilment/${id}`, {
    headers: { Authorization: `Bearer ${await token()}` },
  });
  if (response.status === 404) return undefined;
  return ((await response.json()) as { instance: ProcessInstance }).instance;
}

/** Waits (polling the node's answers, never a fixed time) until the instance satisfies `done`. */
async function until(id: string, done: (instance: ProcessInstance) => boolean) {
  return vi.waitFor(
    async () => {
      const found = await instance(id);
      if (!found || !done(found)) throw new Error(`instance ${id}: ${JSON.stringify(found)}`);
      return found;
    },
    { timeout: 10_000, interval: 20 },
  );
}

const settled = (status: ProcessInstance["status"]) => (found: ProcessInstance) =>
  found.status === status && found.outbox.length === 0;

async function placeOrder(id: string, sku: string, quantity: number, cardNumber = card) {
  await execute(`stock-${sku}`, stock, { type: "receive", quantity: 10 });
  await execute(`order-${id}`, order, {
    type: "place",
    orderId: id,
    sku,
    quantity,
    amount: 12,
    card: cardNumber,
  });
}

describe("processes on the sync node", () => {
  it("runs the order process across streams; each command lands exactly once, as the node", async () => {
    const id = fresh("o");
    const sku = fresh("tea");
    await placeOrder(id, sku, 2);
    await until(
      id,
      (found) =>
        found.state !== null &&
        (found.state as { stage: string }).stage === "charging" &&
        found.outbox.length === 0,
    );
    expect(await types(`stock-${sku}`)).toEqual(["stock.received", "stock.reserved"]);
    expect(await types(`payment-${id}`)).toEqual(["payment.requested"]);

    await execute(`payment-${id}`, payment, { type: "capture", orderId: id });
    const done = await until(id, settled("done"));
    expect(done.deadlines).toEqual([]);
    expect(await types(`order-${id}`)).toEqual(["order.placed", "order.completed"]);
    expect(await types(`stock-${sku}`)).toEqual(["stock.received", "stock.reserved"]);
    expect(await types(`payment-${id}`)).toEqual(["payment.requested", "payment.captured"]);
    // The process's commands are the node's: its identity is the actor.
    const completed = (await logOf(`order-${id}`))[1]!;
    expect(completed.meta.actor).toBe(NODE_ACTOR);
    // The reaction heard the completed order once.
    await vi.waitFor(() => expect(mails.filter((mail) => mail.orderId === id)).toHaveLength(1), {
      timeout: 10_000,
      interval: 20,
    });
  });

  it("handles an event fed twice once: the host stores it once, the log's lost ack changes nothing", async () => {
    const id = fresh("o");
    const sku = fresh("tea");
    await placeOrder(id, sku, 1);
    const before = await until(id, (found) => found.step === 2 && found.outbox.length === 0);
    const placed = (await logOf(`order-${id}`)) as never[];

    // A feed repeated (a retry whose first answer was lost): nothing new is stored.
    expect(await host().feed(hostKey, placed)).toEqual({ ok: true, value: 0 });
    // Handled events keep only their id in the inbox (for this deduplication), not their body.
    const stored = await runInDurableObject(host(), (_instance, state) =>
      state.storage.sql
        .exec<{ body: string }>(
          `SELECT body FROM inbox WHERE id = ?`,
          (placed[0] as unknown as { id: string }).id,
        )
        .toArray()
        .map((row) => row.body),
    );
    expect(stored).toEqual([""]);
    // The order log forgets it fed the host (killed before storing the ack) and feeds it again.
    const orderLog = nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(`order-${id}`));
    await runInDurableObject(orderLog, (_instance, state) => {
      state.storage.sql.exec(`DELETE FROM meta WHERE key = ?`, `process_fed:${hostKey}`);
    });
    expect(await runDurableObjectAlarm(orderLog)).toBe(true);
    await vi.waitFor(
      () =>
        runInDurableObject(orderLog, (_instance, state) =>
          expect(
            state.storage.sql
              .exec<{ value: string }>(
                `SELECT value FROM meta WHERE key = ?`,
                `process_fed:${hostKey}`,
              )
              .toArray()[0]?.value,
          ).toBe("1"),
        ),
      { timeout: 10_000, interval: 20 },
    );

    const after = await instance(id);
    expect(after?.revision).toBe(before.revision);
    expect(after?.handled).toEqual(before.handled);
    expect(await types(`stock-${sku}`)).toEqual(["stock.received", "stock.reserved"]);
    expect(await types(`payment-${id}`)).toEqual(["payment.requested"]);
  });

  it("compensates a refused card: stock released and order cancelled once, instance compensated", async () => {
    const id = fresh("o");
    const sku = fresh("tea");
    await placeOrder(id, sku, 3, refusedCard);
    const compensated = await until(id, settled("compensated"));
    expect(compensated.compensation?.reason).toMatchObject({
      code: "forbidden",
      message: "card refused",
    });
    expect(await types(`payment-${id}`)).toEqual([]);
    expect(await types(`stock-${sku}`)).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await types(`order-${id}`)).toEqual(["order.placed", "order.cancelled"]);
  });

  it("fires the payment deadline from the host's alarm: the order is cancelled and the stock released", async () => {
    const id = fresh("o");
    const sku = fresh("tea");
    await placeOrder(id, sku, 1);
    const waiting = await until(
      id,
      (found) => found.status === "waiting" && found.step === 2 && found.outbox.length === 0,
    );
    expect(waiting.deadlines).toMatchObject([{ name: "payment-due" }]);
    const dueAt = waiting.deadlines[0]!.dueAt;
    // The host's alarm is set for the deadline (the clock is virtual: its distance from now).
    const alarm = await runInDurableObject(host(), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(Math.abs(alarm! - (Date.now() + (dueAt - clock.now())))).toBeLessThan(5_000);

    // Not due yet: an early alarm fires nothing.
    expect(await runDurableObjectAlarm(host())).toBe(true);
    expect((await instance(id))?.status).toBe("waiting");

    clock.advance(paymentWindowMs);
    expect(await runDurableObjectAlarm(host())).toBe(true);
    // The alarm drains before it returns: the commands are in their streams now.
    expect(await instance(id)).toMatchObject({
      status: "done",
      outbox: [],
      deadlines: [],
      state: { stage: "expired" },
    });
    expect(await types(`order-${id}`)).toEqual(["order.placed", "order.cancelled"]);
    expect(await types(`stock-${sku}`)).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
    expect(await types(`payment-${id}`)).toEqual(["payment.requested"]);
  });
  it("fires a deadline that fell due while the node was down, from a fresh object's alarm", async () => {
    const id = fresh("o");
    const sku = fresh("tea");
    await placeOrder(id, sku, 1);
    await until(id, (found) => found.status === "waiting" && found.step === 2);
    // Every object stops, memory and in-flight work lost; then the deadline passes.
    await abortAllDurableObjects();
    clock.advance(paymentWindowMs);
    expect(await runDurableObjectAlarm(host())).toBe(true);
    expect(await instance(id)).toMatchObject({ status: "done", state: { stage: "expired" } });
    expect(await types(`order-${id}`)).toEqual(["order.placed", "order.cancelled"]);
    expect(await types(`stock-${sku}`)).toEqual([
      "stock.received",
      "stock.reserved",
      "stock.released",
    ]);
  });
});

describe("GET /v1/processes/:name", () => {
  const get = async (path: string, grants?: Record<string, "read" | "write">) =>
    fetchApp(app, path, {
      headers:
        grants === undefined ? {} : { Authorization: `Bearer ${await token(grants, "ops")}` },
    });

  it("lists instances with state, status, history, outbox and deadlines to a token granted process:<name>", async () => {
    const id = fresh("o");
    await placeOrder(id, fresh("tea"), 1);
    await until(id, (found) => found.step === 2 && found.outbox.length === 0);

    const response = await get("/v1/processes/order-fulfilment?status=waiting&limit=1000", {
      "process:order-fulfilment": "read",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { process: string; instances: ProcessInstance[] };
    expect(body.process).toBe("order-fulfilment");
    const listed = body.instances.find((found) => found.id === id);
    expect(listed).toMatchObject({
      status: "waiting",
      state: { stage: "charging" },
      outbox: [],
      deadlines: [{ name: "payment-due" }],
    });
    expect(listed?.history.map((entry) => entry.kind)).toEqual([
      "event",
      "delivered",
      "event",
      "delivered",
    ]);
    expect(body.instances.every((found) => found.status === "waiting")).toBe(true);

    const one = await get(`/v1/processes/order-fulfilment/${id}`, { "process:*": "read" });
    expect(one.status).toBe(200);
    expect(((await one.json()) as { instance: ProcessInstance }).instance.id).toBe(id);
  });

  it("pages instances in id order", async () => {
    for (let n = 0; n < 3; n++) await placeOrder(fresh("page"), fresh("tea"), 1);
    const grant = { "process:order-fulfilment": "read" } as const;
    const first = (await (await get("/v1/processes/order-fulfilment?limit=2", grant)).json()) as {
      instances: ProcessInstance[];
      next?: string;
    };
    expect(first.instances).toHaveLength(2);
    expect(first.next).toBe(first.instances[1]!.id);
    const second = (await (
      await get(`/v1/processes/order-fulfilment?limit=2&after=${first.next}`, grant)
    ).json()) as { instances: ProcessInstance[] };
    expect(second.instances[0]!.id > first.next!).toBe(true);
  });

  it("refuses with coded errors: no token, no grant, bad query, unknown names", async () => {
    const body = async (response: Response) => ({
      status: response.status,
      code: ((await response.json()) as { code: string }).code,
    });
    expect(await body(await get("/v1/processes/order-fulfilment"))).toEqual({
      status: 401,
      code: "unauthorized",
    });
    expect(await body(await get("/v1/processes/order-fulfilment", { "order-*": "write" }))).toEqual(
      { status: 403, code: "forbidden" },
    );
    expect(
      await body(await get("/v1/processes/order-fulfilment", { "process:other": "read" })),
    ).toEqual({ status: 403, code: "forbidden" });
    expect(
      await body(await get("/v1/processes/order-fulfilment?status=lost", { "process:*": "read" })),
    ).toEqual({ status: 400, code: "validation" });
    expect(
      await body(await get("/v1/processes/order-fulfilment?limit=0", { "process:*": "read" })),
    ).toEqual({ status: 400, code: "validation" });
    expect(await body(await get("/v1/processes/nope", { "process:*": "read" }))).toEqual({
      status: 404,
      code: "not-found",
    });
    expect(
      await body(
        await get("/v1/processes/order-fulfilment/no-such-order", { "process:*": "read" }),
      ),
    ).toEqual({ status: 404, code: "not-found" });
  });

  it("lists a reaction's dead letters to a token granted reaction:<name>", async () => {
    const ok = await get("/v1/reactions/receipt-mailer/dead-letters", {
      "reaction:receipt-mailer": "read",
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ reaction: "receipt-mailer", deadLetters: [] });
    expect(
      (await get("/v1/reactions/receipt-mailer/dead-letters", { "process:*": "read" })).status,
    ).toBe(403);
    expect((await get("/v1/reactions/nope/dead-letters", { "reaction:*": "read" })).status).toBe(
      404,
    );
  });
});

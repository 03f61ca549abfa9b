// MemoryNode enforces a token's stream grants as the node does (docs/architecture.md, "Auth"):
// read access to connect to a stream or fetch its snapshots, write access to push; a device
// whose token does not grant a stream sees `forbidden`, and the stream stops (state `error`).
import { isChronicleError, MemoryLocalLog } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { account } from "../__fixtures__/account.ts";
import { createSyncEngine } from "../client/sync-engine.ts";
import type { ServerFrame } from "../protocol/frames.ts";
import { createLoopbackTransport } from "./loopback-transport.ts";
import { MemoryNode, type MemoryNodeCaller } from "./memory-node.ts";

const tokens: Record<string, MemoryNodeCaller> = {
  writer: { sub: "writer", streams: { "account:*": "write" } },
  reader: { sub: "reader", streams: { "account:1": "read", "account:2": "write" } },
};

const world = () => {
  const node = new MemoryNode({ auth: (token) => tokens[token ?? ""] });
  const device = (token: string) => {
    const local = new MemoryLocalLog();
    const engine = createSyncEngine({
      local,
      transport: createLoopbackTransport(node, { token }),
      device: token,
      deciders: [account],
    });
    return { local, engine };
  };
  return { node, device };
};

describe("MemoryNode's stream grants", () => {
  it("lets a token read what it may read and write what it may write", async () => {
    const { node, device } = world();
    const writer = device("writer");
    await writer.engine.execute("account:1", account, { deposit: 5 });
    await writer.engine.syncOnce("account:1");

    const reader = device("reader");
    await reader.engine.syncOnce("account:1");
    expect(await reader.local.confirmedHead("account:1")).toBe(1);
    await reader.engine.execute("account:2", account, { deposit: 3 });
    await reader.engine.syncOnce("account:2");
    expect(node.log("account:2").map((event) => event.meta.actor)).toEqual(["reader"]);
    writer.engine.close();
    reader.engine.close();
  });

  it("refuses a connection to a stream the token may not read, and a push it may not write, with `forbidden`", async () => {
    const { node } = world();
    let refused: unknown;
    try {
      node.accept("account:3", () => {}, { token: "reader" });
    } catch (error) {
      refused = error;
    }
    expect(isChronicleError(refused, "forbidden")).toBe(true);
    expect((refused as { details: unknown }).details).toEqual({
      stream: "account:3",
      needed: "read",
    });
    expect(() =>
      node.snapshots("account:3", [{ kind: "decider", name: "account", version: 1 }], {
        token: "reader",
      }),
    ).toThrow(expect.objectContaining({ code: "forbidden" }));

    const frames: ServerFrame[] = [];
    const socket = node.accept("account:1", (frame) => frames.push(frame), { token: "reader" });
    socket.receive(JSON.stringify({ t: "hello", after: 0 }));
    const event = {
      id: "0190b6a2-7c3e-7000-8000-000000000001",
      stream: "account:1",
      type: "money.deposited",
      version: 1,
      data: { amount: 1 },
      meta: { actor: "reader", device: "d1", occurredAt: 0, correlationId: "c1" },
    };
    socket.receive(JSON.stringify({ t: "push", req: "p1", events: [event] }));
    expect(frames.at(-1)).toMatchObject({ t: "error", req: "p1", code: "forbidden" });
    expect(node.log("account:1")).toEqual([]);
  });

  it("stops a device's stream whose push the token does not grant (state `error`, `forbidden`)", async () => {
    const { node, device } = world();
    const reader = device("reader");
    await reader.engine.execute("account:1", account, { deposit: 1 });
    await reader.engine.syncOnce("account:1").catch(() => {});
    expect(reader.engine.syncStatus("account:1")).toMatchObject({
      state: "error",
      pending: 1,
      lastError: expect.objectContaining({ code: "forbidden" }),
    });
    expect(node.log("account:1")).toEqual([]);
    reader.engine.close();
  });
});

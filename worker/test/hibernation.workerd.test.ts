// Hibernation and eviction: the object keeps nothing in memory that the sockets need, so an
// instance woken by a message (or re-created after eviction) serves the same sockets correctly.
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { StreamLog } from "../src/stream-log/StreamLog.ts";
import type { SocketState } from "../src/stream-log/socket-state.ts";
import { connect, events, freshStream, logOf, nextReq, nodeEnv, token } from "./node-client.ts";

const stubOf = (stream: string) => nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));

describe("hibernation", () => {
  it("serves the same sockets from a fresh instance, as after waking from hibernation", async () => {
    const stream = freshStream();
    const alice = await connect(stream, await token({ [stream]: "write" }, "alice"));
    const bob = await connect(stream, await token({ [stream]: "read" }, "bob"));
    await alice.hello();
    await bob.hello();
    await alice.request({ t: "push", req: nextReq(), events: events(stream, 2) });
    expect(await bob.eventsUntil(2)).toEqual([1, 2]);

    const pushed = events(stream, 3, "after-wake");
    await runInDurableObject(stubOf(stream), (_old, state) => {
      // What the runtime does on wake: construct the class again, then deliver the message to
      // the hibernated socket. Only storage and the attachments carry over.
      const woken = new StreamLog(state, nodeEnv);
      const sockets = state.getWebSockets();
      expect(sockets).toHaveLength(2);
      const attachments = sockets.map((ws) => ws.deserializeAttachment() as SocketState);
      expect(attachments.map((a) => [a.sub, a.access, a.subscribed]).sort()).toEqual([
        ["alice", "write", true],
        ["bob", "read", true],
      ]);
      const aliceSocket = sockets[attachments.findIndex((a) => a.sub === "alice")]!;
      woken.webSocketMessage(
        aliceSocket,
        JSON.stringify({ t: "push", req: "woken", events: pushed }),
      );
    });
    expect(await alice.next((f) => f.t === "ack")).toMatchObject({
      req: "woken",
      results: [{ position: 3 }, { position: 4 }, { position: 5 }],
    });
    expect(await bob.eventsUntil(5)).toEqual([3, 4, 5]);
    // And the original instance still sees the same log afterwards.
    const ack = await alice.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 6 }] });
    expect((await logOf(stream)).map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("answers ping with pong without the object's code", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    const pong = new Promise<string>((resolve) =>
      socket.ws.addEventListener("message", (e) => resolve(String(e.data))),
    );
    socket.send("ping");
    expect(await pong).toBe("pong");
  });
});

describe("eviction", () => {
  it("keeps the log and epoch; clients reconnect and catch up from their cursor", async () => {
    const stream = freshStream();
    const writer = await connect(stream);
    const reader = await connect(stream);
    const welcome = await reader.hello();
    await writer.request({ t: "push", req: nextReq(), events: events(stream, 4) });
    expect(await reader.eventsUntil(4)).toEqual([1, 2, 3, 4]);

    await abortAllDurableObjects();
    // A crash-style eviction drops the connections (a hibernating object keeps them).
    expect((await reader.closed).code).toBe(1006);

    const writerAgain = await connect(stream);
    const readerAgain = await connect(stream);
    const rewelcome = await readerAgain.hello(4);
    expect(rewelcome).toMatchObject({ epoch: welcome.epoch, head: 4 });
    const ack = await writerAgain.request({ t: "push", req: nextReq(), events: events(stream, 2) });
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 5 }, { position: 6 }] });
    expect(await readerAgain.eventsUntil(6)).toEqual([5, 6]);
  });
});

// A socket does not outlive its token (StreamLog invariant 8): a reader that never sends a frame
// stops receiving at its token's exp, closed by the object's alarm; nothing is delivered to a
// socket past exp even before the alarm runs. Writers alike.
import { runInDurableObject } from "cloudflare:test";
import type { ServerFrame } from "@chronicle/sync/protocol";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/auth/jwt.ts";
import { connect, events, freshStream, logOf, nextReq, nodeEnv, token } from "./node-client.ts";

const stubOf = (stream: string) => nodeEnv.STREAM_LOG.get(nodeEnv.STREAM_LOG.idFromName(stream));

describe("token expiry on silent sockets", () => {
  it("closes a silent reader and a silent writer at exp with unauthorized, then 4401", async () => {
    const stream = freshStream();
    const writer = await connect(stream, await token({ [stream]: "write" }, "writer"));
    // Tokens that expire in 1-2 s (exp is in whole seconds).
    const reader = await connect(stream, await token({ [stream]: "read" }, "reader", 2));
    const quietWriter = await connect(stream, await token({ [stream]: "write" }, "quiet", 2));
    await reader.hello();
    await quietWriter.hello();
    await writer.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    expect(await reader.eventsUntil(1)).toEqual([1]);

    // From here on the reader sends nothing (a heartbeat would not wake the object anyway).
    const [readerClosed, writerClosed] = await Promise.all([reader.closed, quietWriter.closed]);
    expect(readerClosed.code).toBe(4401);
    expect(writerClosed.code).toBe(4401);
    for (const socket of [reader, quietWriter]) {
      const last = socket.received.at(-1) as ServerFrame;
      expect(last).toMatchObject({ t: "error", code: "unauthorized" });
    }
    // The writer with a valid token is still served.
    const ack = await writer.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 2 }] });
  }, 15_000);

  it("delivers nothing to a socket past exp, even before the alarm has run", async () => {
    const stream = freshStream();
    const writer = await connect(stream, await token({ [stream]: "write" }, "writer"));
    const reader = await connect(stream, await token({ [stream]: "read" }, "reader"));
    await reader.hello();
    await runInDurableObject(stubOf(stream), (_instance, state) => {
      // As if the reader's exp had passed and the alarm had not fired yet.
      for (const ws of state.getWebSockets()) {
        const attachment = ws.deserializeAttachment() as { sub: string; exp: number };
        if (attachment.sub === "reader") ws.serializeAttachment({ ...attachment, exp: 1 });
      }
    });
    await writer.request({ t: "push", req: nextReq(), events: events(stream, 2) });
    expect((await reader.closed).code).toBe(4401);
    expect(reader.received.filter((frame) => frame.t === "events")).toEqual([]);
    expect(reader.received.at(-1)).toMatchObject({ t: "error", code: "unauthorized" });
    expect(await logOf(stream)).toHaveLength(2);
  });

  it("keeps the alarm for the earliest exp among the open sockets", async () => {
    const stream = freshStream();
    await connect(stream, await token({ [stream]: "read" }, "late", 3600));
    const soon = Math.floor(Date.now() / 1000) + 600;
    await connect(stream, await token({ [stream]: "read" }, "early", 600));
    await connect(stream, await token({ [stream]: "read" }, "later", 1800));
    const alarm = await runInDurableObject(stubOf(stream), (_instance, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).not.toBeNull();
    expect(Math.abs(alarm! - soon * 1000)).toBeLessThanOrEqual(1000);
  });

  it("accepts a token expiring in a far future and keeps serving its socket", async () => {
    const stream = freshStream();
    const far = await signToken(
      { sub: "far", streams: { [stream]: "write" }, exp: 1e308 },
      nodeEnv.CHRONICLE_SECRET!,
    );
    const socket = await connect(stream, far);
    await socket.hello();
    const ack = await socket.request({ t: "push", req: nextReq(), events: events(stream, 1) });
    expect(ack).toMatchObject({ t: "ack" });
    const alarm = await runInDurableObject(stubOf(stream), (_instance, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).toBeLessThanOrEqual(Date.now() + 8 * 24 * 3600 * 1000);
    socket.close();
  });
});

// Everything the node sends stays within the frame limit, envelope included: catch-up, live and
// pulled `events` frames, HTTP pull bodies, acks and error frames.
import { createEnvelope } from "@chronicle/core";
import { byteLength } from "@chronicle/sync/protocol";
import { describe, expect, it } from "vitest";
import { createSyncNode } from "../src/index.ts";
import { connectApp, fetchApp, freshStream, nextReq, token } from "./node-client.ts";

const sameSize = (stream: string, count: number) =>
  Array.from({ length: count }, (_, index) =>
    createEnvelope(
      stream,
      { type: "card.added", version: 1, data: { text: "x".repeat(300), index } },
      { actor: "a", device: "d" },
    ),
  );

describe("frames the node sends fit the frame limit, envelope included", () => {
  it("pages events frames and pull bodies by their whole size", async () => {
    const stream = freshStream();
    // Measure one stored event, then pick a limit that two events' JSON fits but two events
    // plus the frame's envelope do not.
    const probe = createSyncNode();
    const writer = await connectApp(probe, stream);
    const batch = sameSize(stream, 6);
    await writer.request({ t: "push", req: nextReq(), events: [batch[0]!] });
    const first = await fetchApp(probe, `/v1/streams/${stream}/events`, {
      headers: { Authorization: `Bearer ${await token()}` },
    });
    const { events } = (await first.json()) as { events: unknown[] };
    const eventBytes = byteLength(JSON.stringify(events[0]));
    const maxFrameBytes = 2 * (eventBytes + 1) + 10;
    await writer.request({ t: "push", req: nextReq(), events: batch.slice(1) });
    writer.close();

    const app = createSyncNode({ limits: { maxFrameBytes } });
    const reader = await connectApp(app, stream);
    await reader.hello();
    await reader.eventsUntil(6);
    await reader.request({ t: "pull", req: "p".repeat(64), after: 0 });
    const pusher = await connectApp(app, stream);
    await pusher.request({ t: "push", req: nextReq(), events: sameSize(stream, 1) });
    await reader.eventsUntil(7);
    const sent = reader.raw.filter((text) => text.startsWith('{"t":"events"'));
    expect(sent.length).toBeGreaterThanOrEqual(8);
    for (const text of sent) expect(byteLength(text)).toBeLessThanOrEqual(maxFrameBytes);

    const page = await fetchApp(app, `/v1/streams/${stream}/events?after=0&limit=1000`, {
      headers: { Authorization: `Bearer ${await token()}` },
    });
    const body = await page.text();
    expect(byteLength(body)).toBeLessThanOrEqual(maxFrameBytes);
    expect(JSON.parse(body)).toMatchObject({ more: true });
    reader.close();
    pusher.close();
  });

  it("refuses a push whose ack would not fit, before storing it", async () => {
    const maxFrameBytes = 4000;
    const app = createSyncNode({ limits: { maxFrameBytes } });
    const stream = freshStream();
    const longSub = "s".repeat(256);
    const socket = await connectApp(app, stream, await token({ [stream]: "write" }, longSub));
    const batch = Array.from({ length: 10 }, (_, index) =>
      createEnvelope(
        stream,
        { type: "t", version: 1, data: null, id: `${index}`.padStart(64, "i") },
        { actor: "", device: "" },
      ),
    );
    const frame = JSON.stringify({ t: "push", req: "big-ack", events: batch });
    expect(byteLength(frame)).toBeLessThanOrEqual(maxFrameBytes);
    socket.send(frame);
    const answer = await socket.next();
    expect(answer).toMatchObject({ t: "error", req: "big-ack", code: "too-large" });
    for (const text of socket.raw) expect(byteLength(text)).toBeLessThanOrEqual(maxFrameBytes);
    const pulled = await socket.request({ t: "pull", req: nextReq(), after: 0 });
    expect(pulled).toMatchObject({ t: "events", head: 0 });
    socket.close();
  });

  it("keeps error frames and error bodies short whatever the input echoed", async () => {
    const maxFrameBytes = 4096;
    const app = createSyncNode({ limits: { maxFrameBytes } });
    const stream = freshStream();
    const socket = await connectApp(app, stream);
    const hostileType = JSON.stringify({ t: "x".repeat(maxFrameBytes - 20) });
    expect(byteLength(hostileType)).toBeLessThanOrEqual(maxFrameBytes);
    socket.send(hostileType);
    expect(await socket.next()).toMatchObject({ t: "error", code: "protocol" });
    const key = "k".repeat(1800);
    socket.send(`{"t":"hello","protocol":1,"after":0,"${key}":1,"${key}":2}`);
    expect(await socket.next()).toMatchObject({ t: "error", code: "validation" });
    for (const text of socket.raw) expect(byteLength(text)).toBeLessThanOrEqual(1500);
    socket.close();
  });
});

// Exact data: what the node stores is what the client sent, or the push is refused with a coded
// error. Never a silent change: not of a value JSON round-tripping would alter, not of a stored
// event pushed again with other content.
import { describe, expect, it } from "vitest";
import {
  connect,
  events,
  freshStream,
  logOf,
  nextReq,
  pullHttp,
  pushHttp,
  token,
} from "./node-client.ts";

/** A push of one event whose `data` is the raw JSON text given (what a hostile client sends). */
function rawPush(stream: string, dataText: string, extra = ""): { frame: string; body: string } {
  const [event] = events(stream, 1);
  const text = JSON.stringify({ ...event, data: "DATA" }).replace(
    '"data":"DATA"',
    `"data":${dataText}${extra}`,
  );
  return {
    frame: `{"t":"push","req":"raw","events":[${text}]}`,
    body: `{"events":[${text}]}`,
  };
}

const inexact: Array<[name: string, data: string, extra: string, path: string]> = [
  ["a __proto__ key", '{"__proto__":{"a":1},"k":1}', "", "events.0.data"],
  ["a __proto__ key deep inside", '{"list":[{"__proto__":[]}]}', "", "events.0.data.list.0"],
  ["a key twice", '{"k":1,"k":2}', "", "events.0.data"],
  ["an envelope field twice", "1", ',"type":"other.type"', "events.0"],
  ["-0", '{"n":-0}', "", "events.0.data.n"],
  ["1e400 (Infinity)", '{"n":1e400}', "", "events.0.data.n"],
  ["a lone surrogate", '{"s":"\\ud83d"}', "", "events.0.data.s"],
  ["a field outside the envelope", "1", ',"note":"kept?"', "events.0.note"],
];

describe("values JSON round-tripping would change are refused, never altered", () => {
  for (const [name, data, extra, path] of inexact) {
    it(`refuses ${name} with validation at ${path}, over WebSocket and HTTP`, async () => {
      const stream = freshStream();
      const { frame, body } = rawPush(stream, data, extra);
      const socket = await connect(stream);
      socket.send(frame);
      expect(await socket.next()).toMatchObject({
        t: "error",
        req: "raw",
        code: "validation",
        details: { path },
      });
      const response = await pushHttp(stream, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: "validation", path });
      expect(await logOf(stream)).toEqual([]);
      socket.close();
    });
  }

  it("stores and serves everything exact JSON can hold, byte for byte", async () => {
    const stream = freshStream();
    const data = {
      constructor: { prototype: 1 },
      toString: "x",
      "": [null, true, false],
      unicode: '😀 é \u2028 \u0000 \\ "',
      numbers: [0, -1, 1.5, 1e-7, 2 ** 53, 1e300, -2.5e-300],
      nested: { a: { b: { c: [[[]]] } } },
    };
    const [event] = events(stream, 1);
    const socket = await connect(stream);
    await socket.request({ t: "push", req: nextReq(), events: [{ ...event!, data }] });
    const [stored] = await logOf(stream);
    expect(JSON.stringify((stored as unknown as { data: unknown }).data)).toBe(
      JSON.stringify(data),
    );
    socket.close();
  });
});

describe("a stored id pushed again with other content", () => {
  it("answers id-conflict over WebSocket and HTTP, and keeps the stored event", async () => {
    const stream = freshStream();
    const [original] = events(stream, 1);
    const socket = await connect(stream);
    const ack = await socket.request({ t: "push", req: nextReq(), events: [original!] });
    expect(ack).toMatchObject({ t: "ack", results: [{ position: 1 }] });

    const altered = { ...original!, data: { tag: "altered" } };
    const [fresh] = events(stream, 1, "fresh");
    const refused = await socket.request({ t: "push", req: "again", events: [fresh!, altered] });
    expect(refused).toMatchObject({
      t: "error",
      req: "again",
      code: "id-conflict",
      details: { id: original!.id, position: 1, path: "events.1.id" },
    });
    const overHttp = await pushHttp(stream, { events: [altered] });
    expect(overHttp.status).toBe(409);
    expect(await overHttp.json()).toMatchObject({
      code: "id-conflict",
      id: original!.id,
      position: 1,
    });
    // Nothing of either push was stored (not even the fresh event beside it).
    const log = await logOf(stream);
    expect(log.map((e) => e.id)).toEqual([original!.id]);
    expect((log[0] as unknown as { data: unknown }).data).toEqual(original!.data);

    // The same content again (other actor and node-owned fields aside) is still idempotent.
    const same = { ...original!, position: 7, meta: { ...original!.meta, actor: "whoever" } };
    const other = await connect(stream, await token({ [stream]: "write" }, "bob"));
    expect(await other.request({ t: "push", req: nextReq(), events: [same] })).toMatchObject({
      t: "ack",
      results: [{ id: original!.id, position: 1, actor: "alice" }],
    });
    expect((await pullHttp(stream)).body.head).toBe(1);
    socket.close();
    other.close();
  });
});

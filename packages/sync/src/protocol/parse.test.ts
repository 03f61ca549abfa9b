import { createEnvelope, isChronicleError } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { accessFor, allows } from "./access.ts";
import { defaultLimits } from "./limits.ts";
import {
  checkEventsStream,
  parseClientFrame,
  parsePullQuery,
  parsePushBody,
  parseServerFrame,
} from "./parse.ts";

const event = (stream = "board:1", data: unknown = { n: 1 }) =>
  createEnvelope(stream, { type: "card.added", version: 1, data }, { actor: "a", device: "d" });

function codeOf(fn: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    if (isChronicleError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error("expected a coded error");
}

describe("parseClientFrame", () => {
  it("accepts the three client frames", () => {
    expect(parseClientFrame(JSON.stringify({ t: "hello", protocol: 1, after: 0 }))).toEqual({
      t: "hello",
      protocol: 1,
      after: 0,
    });
    const push = parseClientFrame(
      JSON.stringify({ t: "push", req: "r1", events: [event()], expected: 0 }),
    );
    expect(push.t === "push" && push.events).toHaveLength(1);
    expect(
      parseClientFrame(JSON.stringify({ t: "pull", req: "r2", after: 5, limit: 1000 })),
    ).toMatchObject({ t: "pull" });
  });

  const cases: Array<[string, unknown, string]> = [
    ["binary frame", new Uint8Array([1, 2]), "protocol"],
    ["not JSON", "{nope", "protocol"],
    ["JSON array", "[]", "protocol"],
    ["no t", JSON.stringify({ req: "x" }), "protocol"],
    ["unknown t", JSON.stringify({ t: "subscribe", req: "x" }), "protocol"],
    ["protocol 2", JSON.stringify({ t: "hello", protocol: 2, after: 0 }), "protocol"],
    ["negative after", JSON.stringify({ t: "hello", protocol: 1, after: -1 }), "validation"],
    ["pull limit 0", JSON.stringify({ t: "pull", req: "r", after: 0, limit: 0 }), "validation"],
    [
      "pull limit 1001",
      JSON.stringify({ t: "pull", req: "r", after: 0, limit: 1001 }),
      "validation",
    ],
    ["empty push", JSON.stringify({ t: "push", req: "r", events: [] }), "validation"],
    [
      "bad stream id",
      JSON.stringify({ t: "push", req: "r", events: [{ ...event(), stream: "bad id" }] }),
      "validation",
    ],
    [
      "version 0",
      JSON.stringify({ t: "push", req: "r", events: [{ ...event(), version: 0 }] }),
      "validation",
    ],
    [
      "duplicate ids",
      JSON.stringify({
        t: "push",
        req: "r",
        events: [event(), event()].map((e, _, a) => ({ ...e, id: a[0]!.id })),
      }),
      "validation",
    ],
    [
      "too many events",
      JSON.stringify({ t: "push", req: "r", events: Array.from({ length: 501 }, () => ({})) }),
      "too-large",
    ],
    [
      "event over 64 KiB",
      JSON.stringify({ t: "push", req: "r", events: [event("board:1", "x".repeat(70_000))] }),
      "too-large",
    ],
    [
      "data nested 100 deep",
      JSON.stringify({
        t: "pull",
        req: "r",
        after: 0,
        x: JSON.parse("[".repeat(100) + "]".repeat(100)),
      }),
      "validation",
    ],
    [
      "frame over 1 MiB",
      JSON.stringify({ t: "pull", req: "r", after: 0, pad: "x".repeat(1_100_000) }),
      "too-large",
    ],
  ];
  for (const [name, input, code] of cases) {
    it(`refuses ${name} with ${code}`, () => {
      expect(codeOf(() => parseClientFrame(input)).code).toBe(code);
    });
  }

  it("echoes the request id in the error details when it can", () => {
    const { details } = codeOf(() =>
      parseClientFrame(JSON.stringify({ t: "push", req: "r-9", events: [{ id: 1 }] })),
    );
    expect(details.req).toBe("r-9");
  });
});

describe("HTTP bodies and server frames", () => {
  it("parses push bodies and pull queries with limits", () => {
    expect(parsePushBody(JSON.stringify({ events: [event()] })).events).toHaveLength(1);
    expect(codeOf(() => parsePushBody("[1]")).code).toBe("validation");
    // Over HTTP, a body that is not JSON is bad input (400), not a protocol error.
    expect(codeOf(() => parsePushBody("{nope")).code).toBe("validation");
    expect(parsePullQuery({ after: "3" })).toEqual({
      after: 3,
      limit: defaultLimits.defaultPullLimit,
    });
    expect(codeOf(() => parsePullQuery({ after: "-1" })).code).toBe("validation");
    expect(codeOf(() => parsePullQuery({ after: "0", limit: "5000" })).code).toBe("validation");
  });

  it("refuses events for another stream than the URL's", () => {
    expect(codeOf(() => checkEventsStream("board:2", [event("board:1")])).code).toBe("validation");
  });

  it("refuses malformed server frames with protocol", () => {
    expect(parseServerFrame(JSON.stringify({ t: "welcome", epoch: "e", head: 0 }))).toEqual({
      t: "welcome",
      epoch: "e",
      head: 0,
    });
    expect(codeOf(() => parseServerFrame(JSON.stringify({ t: "ack", req: "r" }))).code).toBe(
      "protocol",
    );
    expect(codeOf(() => parseServerFrame("nope")).code).toBe("protocol");
  });
});

describe("accessFor", () => {
  const scopes = { "board:*": "write", "public:news": "read" } as const;
  it("matches exact ids and prefix wildcards; write implies read", () => {
    expect(accessFor(scopes, "board:7")).toBe("write");
    expect(accessFor(scopes, "public:news")).toBe("read");
    expect(accessFor(scopes, "public:newsletter")).toBeUndefined();
    expect(allows("write", "read")).toBe(true);
    expect(allows("read", "write")).toBe(false);
    expect(allows(undefined, "read")).toBe(false);
  });
});

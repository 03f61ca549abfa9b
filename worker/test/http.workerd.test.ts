// The HTTP surface: endpoints, pagination, unknown routes and the code -> status mapping.
import { ChronicleError, errorCodes } from "@chronicle/core";
import { pullResponse, pushResponse } from "@chronicle/sync/protocol";
import { describe, expect, it } from "vitest";
import { errorResponse, statusByCode } from "../src/http/errors.ts";
import { createSyncNode } from "../src/index.ts";
import {
  connect,
  events,
  fetchNode,
  freshStream,
  nodeEnv,
  origin,
  pullHttp,
  pushHttp,
  token,
} from "./node-client.ts";

describe("HTTP endpoints", () => {
  it("answers CORS preflights and exposes the epoch header to other origins", async () => {
    const preflight = await fetchNode("/v1/streams/board:1/events", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain(
      "authorization",
    );
    const stream = freshStream();
    const pushed = await pushHttp(stream, { events: events(stream, 1) });
    expect(pushed.status).toBe(200);
    const pulled = await fetchNode(`/v1/streams/${stream}/events`, {
      headers: { Origin: "https://app.example", Authorization: `Bearer ${await token()}` },
    });
    expect(pulled.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(pulled.headers.get("Access-Control-Expose-Headers")).toContain("X-Chronicle-Epoch");
    const refused = await fetchNode(`/v1/streams/${stream}/events`, {
      headers: { Origin: "https://app.example" },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("answers /health", async () => {
    const response = await fetchNode("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, protocol: 1 });
  });

  it("pushes and pulls with pages (limit, more)", async () => {
    const stream = freshStream();
    const pushed = await pushHttp(stream, { events: events(stream, 5) });
    expect(pushed.status).toBe(200);
    const { results } = pushResponse.parse(await pushed.json());
    expect(results.map((r) => r.position)).toEqual([1, 2, 3, 4, 5]);
    const first = pullResponse.parse((await pullHttp(stream, "?after=0&limit=2")).body);
    expect(first.events.map((e) => e.position)).toEqual([1, 2]);
    expect(first).toMatchObject({ head: 5, more: true });
    const last = pullResponse.parse((await pullHttp(stream, "?after=4&limit=2")).body);
    expect(last.events.map((e) => e.position)).toEqual([5]);
    expect(last.more).toBe(false);
    const beyond = pullResponse.parse((await pullHttp(stream, "?after=9")).body);
    expect(beyond).toEqual({ events: [], head: 5, more: false });
    const empty = pullResponse.parse((await pullHttp(freshStream(), "")).body);
    expect(empty).toEqual({ events: [], head: 0, more: false });
  });

  it("tells HTTP clients the stream's epoch in X-Chronicle-Epoch", async () => {
    const stream = freshStream();
    const pushed = await pushHttp(stream, { events: events(stream, 1) });
    const pulled = await fetchNode(`/v1/streams/${stream}/events`, {
      headers: { Authorization: `Bearer ${await token()}` },
    });
    const { epoch } = await (await connect(stream)).hello();
    expect(pushed.headers.get("X-Chronicle-Epoch")).toBe(epoch);
    expect(pulled.headers.get("X-Chronicle-Epoch")).toBe(epoch);
  });

  it("broadcasts HTTP pushes to subscribed sockets", async () => {
    const stream = freshStream();
    const socket = await connect(stream);
    await socket.hello();
    await pushHttp(stream, { events: events(stream, 3) });
    expect(await socket.eventsUntil(3)).toEqual([1, 2, 3]);
  });

  it("reads its limits from env vars", async () => {
    const stream = freshStream();
    const env = { ...nodeEnv, MAX_EVENTS_PER_PUSH: "2", MAX_EVENT_BYTES: "400" };
    const post = async (body: unknown) =>
      createSyncNode().fetch(
        new Request(`${origin}/v1/streams/${stream}/events`, {
          method: "POST",
          headers: { Authorization: `Bearer ${await token()}` },
          body: JSON.stringify(body),
        }),
        env,
      );
    expect((await post({ events: events(stream, 3) })).status).toBe(413);
    const [big] = events(stream, 1);
    expect((await post({ events: [{ ...big!, data: "x".repeat(500) }] })).status).toBe(413);
    expect((await post({ events: events(stream, 2) })).status).toBe(200);
  });

  it("answers unknown routes and methods with a coded 404", async () => {
    for (const [method, path] of [
      ["GET", "/nope"],
      ["POST", "/v1/streams"], // GET lists streams (directory.workerd.test.ts)
      ["GET", "/v1/watchers"],
      ["PUT", "/v1/streams/board:1/events"],
      ["GET", "/bench/echo/x/y"],
    ] as const) {
      const response = await fetchNode(path, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        code: "not-found",
        message: expect.any(String),
      });
    }
  });
});

describe("errors to HTTP", () => {
  it("maps every code to its status in one place", () => {
    expect(statusByCode).toMatchObject({
      validation: 400,
      unauthorized: 401,
      forbidden: 403,
      "not-found": 404,
      conflict: 409,
      concurrency: 409,
      "too-large": 413,
      "rate-limited": 429,
      internal: 500,
    });
    for (const code of errorCodes) expect(statusByCode[code]).toBeGreaterThanOrEqual(400);
  });

  it("puts details in the body and hides internal ones", async () => {
    const conflict = errorResponse(
      new ChronicleError("conflict", "moved", { details: { head: 7 } }),
    );
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({ code: "conflict", message: "moved", head: 7 });
    const crash = errorResponse(new Error("SQLITE_CONSTRAINT at row 7"));
    expect(crash.status).toBe(500);
    expect(await crash.json()).toEqual({ code: "internal", message: "internal error" });
  });
});

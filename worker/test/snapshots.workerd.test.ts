// Snapshots for new devices (docs/architecture.md, "Snapshots for new devices"): the node keeps
// states of the app's definitions per stream, computed lazily at multiples of `every`, serves
// them only for the exact definition version, behind the same auth as the other read routes.

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { foldEvents, initialStateOf } from "@chronicle/core";
import { parseSnapshotsResponse } from "@chronicle/sync/protocol";
import { describe, expect, it } from "vitest";
import type { SyncNodeEnv } from "../src/env.ts";
import { createSyncNode } from "../src/index.ts";
import { events, fetchApp, freshStream, logOf, pushHttp, token } from "./node-client.ts";
import { tags, tally } from "./tally-app.ts";

const app = createSyncNode({ snapshots: { deciders: [tally], projections: [tags], every: 10 } });

async function snapshots(stream: string, query: string, tokenValue?: string) {
  return fetchApp(app, `/v1/streams/${stream}/snapshots${query}`, {
    headers: { Authorization: `Bearer ${tokenValue ?? (await token())}` },
  });
}

async function filled(count: number): Promise<string> {
  const stream = freshStream();
  for (let done = 0; done < count; done += 10) {
    const response = await pushHttp(stream, { events: events(stream, Math.min(10, count - done)) });
    expect(response.status).toBe(200);
  }
  return stream;
}

async function storedSnapshots(stream: string) {
  const namespace = (env as unknown as SyncNodeEnv).STREAM_LOG;
  return runInDurableObject(namespace.get(namespace.idFromName(stream)), (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string; name: string; version: number; position: number }>(
        "SELECT kind, name, version, position FROM snapshots ORDER BY position, kind",
      )
      .toArray()
      .map((row) => ({ ...row })),
  );
}

describe("node snapshots", () => {
  it("serves the states at the newest multiple of `every`, equal to folding the log up to there", async () => {
    const stream = await filled(25);
    const response = await snapshots(stream, "?decider=tally:1&projection=tags:1");
    expect(response.status).toBe(200);
    const answer = parseSnapshotsResponse(await response.text());
    expect(response.headers.get("X-Chronicle-Epoch")).toBe(answer.epoch);
    const log = await logOf(stream);
    const upTo20 = log.slice(0, 20) as never[];
    expect(answer).toMatchObject({ head: 25, position: 20, unavailable: [] });
    expect(answer.snapshots).toEqual([
      {
        kind: "decider",
        name: "tally",
        version: 1,
        state: foldEvents(tally, initialStateOf(tally), upTo20),
      },
      { kind: "projection", name: "tags", version: 1, state: foldEvents(tags, [], upTo20) },
    ]);
    expect(answer.snapshots[0]!.state).toEqual({ count: 20, last: 9 });
  });

  it("computes lazily, stores each state once, and moves on from the last one as the log grows", async () => {
    const stream = await filled(12);
    expect(await storedSnapshots(stream).catch(() => [])).toEqual([]);
    await snapshots(stream, "?decider=tally:1");
    await snapshots(stream, "?decider=tally:1");
    expect(await storedSnapshots(stream)).toEqual([
      { kind: "decider", name: "tally", version: 1, position: 10 },
    ]);
    await pushHttp(stream, { events: events(stream, 10, "more") });
    const answer = parseSnapshotsResponse(
      await (await snapshots(stream, "?decider=tally:1&projection=tags:1")).text(),
    );
    expect(answer.position).toBe(20);
    expect(answer.snapshots.map((s) => s.state)).toEqual([
      { count: 20, last: 7 },
      foldEvents(tags, [], (await logOf(stream)).slice(0, 20) as never[]),
    ]);
    expect(await storedSnapshots(stream)).toEqual([
      { kind: "decider", name: "tally", version: 1, position: 10 },
      { kind: "decider", name: "tally", version: 1, position: 20 },
      { kind: "projection", name: "tags", version: 1, position: 20 },
    ]);
  });

  it("prunes: the newest three states of the current version stay, older ones and other versions go", async () => {
    const stream = await filled(10);
    const namespace = (env as unknown as SyncNodeEnv).STREAM_LOG;
    await snapshots(stream, "?decider=tally:1");
    // A state left by an earlier version of the definition.
    await runInDurableObject(namespace.get(namespace.idFromName(stream)), (_instance, state) => {
      state.storage.sql.exec(
        "INSERT INTO snapshots (kind, name, version, position, state, taken_at) VALUES ('decider', 'tally', 0, 10, '{}', 0)",
      );
    });
    for (let head = 20; head <= 50; head += 10) {
      await pushHttp(stream, { events: events(stream, 10, `h${head}`) });
      const answer = parseSnapshotsResponse(
        await (await snapshots(stream, "?decider=tally:1")).text(),
      );
      expect(answer.position).toBe(head);
    }
    expect(await storedSnapshots(stream)).toEqual(
      [30, 40, 50].map((position) => ({ kind: "decider", name: "tally", version: 1, position })),
    );
  });

  it("serves a state only for the exact definition version; others are unavailable with a reason", async () => {
    const stream = await filled(10);
    const answer = parseSnapshotsResponse(
      await (
        await snapshots(stream, "?decider=tally:2&projection=tags:1&projection=nothing:1")
      ).text(),
    );
    expect(answer.position).toBe(10);
    expect(answer.snapshots.map((s) => [s.kind, s.name, s.version])).toEqual([
      ["projection", "tags", 1],
    ]);
    expect(answer.unavailable).toEqual([
      { kind: "decider", name: "tally", version: 2, reason: "version" },
      { kind: "projection", name: "nothing", version: 1, reason: "unknown" },
    ]);
    const none = parseSnapshotsResponse(await (await snapshots(stream, "?decider=tally:2")).text());
    expect(none).toMatchObject({ position: 0, snapshots: [] });
  });

  it("has nothing to serve before the first multiple of `every`", async () => {
    const stream = await filled(9);
    const answer = parseSnapshotsResponse(
      await (await snapshots(stream, "?decider=tally:1")).text(),
    );
    expect(answer).toMatchObject({ head: 9, position: 0, snapshots: [] });
    expect(answer.unavailable).toEqual([
      { kind: "decider", name: "tally", version: 1, reason: "none-yet" },
    ]);
  });

  it("needs read access, like the other read routes", async () => {
    const stream = await filled(10);
    const anonymous = await fetchApp(app, `/v1/streams/${stream}/snapshots?decider=tally:1`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "unauthorized" });
    const elsewhere = await snapshots(
      stream,
      "?decider=tally:1",
      await token({ "other:*": "write" }),
    );
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toMatchObject({ code: "forbidden" });
    const reader = await snapshots(
      stream,
      "?decider=tally:1",
      await token({ [stream]: "read" }, "bob"),
    );
    expect(reader.status).toBe(200);
    const inUrl = await fetchApp(
      app,
      `/v1/streams/${stream}/snapshots?decider=tally:1&token=${await token()}`,
    );
    expect(inUrl.status).toBe(401);
  });

  it("refuses bad queries with validation and the parameter", async () => {
    const stream = await filled(10);
    for (const [query, path] of [
      ["", "decider"],
      ["?decider=tally", "decider"],
      ["?decider=tally:0", "decider"],
      ["?decider=tally:1.5", "decider"],
      ["?projection=:1", "projection"],
      ["?decider=tally:1&after=3", "after"],
      [`?decider=${"x".repeat(129)}:1`, "decider"],
      [`?${Array.from({ length: 65 }, (_, i) => `decider=d${i}:1`).join("&")}`, "decider"],
    ] as const) {
      const response = await snapshots(stream, query);
      expect(response.status, query).toBe(400);
      expect(await response.json(), query).toMatchObject({ code: "validation", path });
    }
  });
});

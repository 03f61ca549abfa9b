// The HTTP transport against a real node (`wrangler dev`): it reports the node's epoch (the
// X-Chronicle-Epoch header), so when the log is recreated under a running HTTP client (the node
// restarted on the same port with empty state, a new epoch) the client handles it as over
// WebSockets: it drops its stale confirmed events, pulls the new log from position 1 and pushes
// its pending events again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EpochResetNotice, MemoryLocalLog, type SyncStatus } from "@chronicle/core";
import { createHttpTransport, createSyncEngine, type SyncEngine } from "@chronicle/sync";
import { afterAll, expect, it } from "vitest";
import { account } from "../../packages/sync/src/__fixtures__/account.ts";
import { devToken, type RunningNode, startNode } from "../sync-node/node-process.ts";
import { untilStatus } from "./until-status.ts";

const STREAM = "account:http-epoch";
const dirs = [1, 2].map((n) => mkdtempSync(join(tmpdir(), `chronicle-http-epoch-${n}-`)));
const nodes: RunningNode[] = [];
const engines: SyncEngine[] = [];
afterAll(async () => {
  for (const engine of engines) engine.close();
  for (const node of nodes) await node.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const until = (engine: SyncEngine, match: (status: SyncStatus) => boolean) =>
  untilStatus(engine, STREAM, match);

/** The node's log of the stream, over HTTP, with the epoch header. */
async function nodeLog(node: RunningNode, token: string) {
  const response = await fetch(`${node.url}/v1/streams/${STREAM}/events?after=0`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { events: { data: unknown }[] };
  return { epoch: response.headers.get("x-chronicle-epoch"), data: body.events.map((e) => e.data) };
}

it("an HTTP client notices a recreated log (new epoch) and handles it as over WebSockets", async () => {
  let node = await startNode({ persistTo: dirs[0]! });
  nodes.push(node);
  const token = await devToken(node, "user");
  const local = new MemoryLocalLog();
  const engine = createSyncEngine({
    local,
    transport: createHttpTransport({ url: node.url, token, pollMs: 100 }),
    device: "http-device",
    actor: "user",
    deciders: [account],
    backoff: { initialMs: 100, maxMs: 500 },
  });
  engines.push(engine);
  const resets: EpochResetNotice[] = [];
  engine.onEpochReset((notice) => resets.push(notice));
  engine.start(STREAM);
  await engine.execute(STREAM, account, { deposit: 1 });
  await engine.execute(STREAM, account, { deposit: 2 });
  await until(engine, (s) => s.state === "synced" && s.confirmedHead === 2);
  const first = await nodeLog(node, token);
  expect(first.data).toEqual([{ amount: 1 }, { amount: 2 }]);
  // The client stored the node's epoch, not one of its own.
  expect(await local.readMeta(STREAM)).toEqual({ epoch: first.epoch });

  // The log is recreated: the node restarts on the same port with empty state (a new epoch).
  await node.stop();
  engine.setOnline(false);
  await engine.execute(STREAM, account, { deposit: 3 }); // pending across the reset
  node = await startNode({ persistTo: dirs[1]!, port: node.port });
  nodes.push(node);
  const other = createSyncEngine({
    local: new MemoryLocalLog(),
    transport: createHttpTransport({ url: node.url, token, pollMs: 100 }),
    device: "other",
    actor: "user",
    deciders: [account],
  });
  engines.push(other);
  other.start(STREAM);
  await other.execute(STREAM, account, { deposit: 10 });
  await until(other, (s) => s.state === "synced" && s.confirmedHead === 1);

  engine.setOnline(true);
  await until(engine, (s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === 2);
  const second = await nodeLog(node, token);
  expect(second.epoch).not.toBe(first.epoch);
  expect(second.data).toEqual([{ amount: 10 }, { amount: 3 }]);
  expect(resets).toMatchObject([
    { stream: STREAM, previousEpoch: first.epoch, epoch: second.epoch, pending: 1 },
  ]);
  expect((await local.readConfirmed(STREAM)).map((e) => e.data)).toEqual(second.data);
  expect(await local.readMeta(STREAM)).toEqual({ epoch: second.epoch });
}, 90_000);

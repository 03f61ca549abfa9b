// An id the real node (`wrangler dev`) holds, pushed again with other content: the node answers
// `id-conflict` with the id and its position; the client reports the event (onRejected, with the
// code) and drops its copy instead of re-pushing it forever, and goes on syncing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLocalLog, type RejectedNotice, type SyncStatus } from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport, type SyncEngine } from "@chronicle/sync";
import { afterAll, expect, it } from "vitest";
import WebSocket from "ws";
import { account } from "../../packages/sync/src/__fixtures__/account.ts";
import { devToken, type RunningNode, startNode } from "../sync-node/node-process.ts";
import { untilStatus } from "./until-status.ts";

const STREAM = "account:id-conflict";
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-id-conflict-e2e-"));
let node: RunningNode | undefined;
let engine: SyncEngine | undefined;
afterAll(async () => {
  engine?.close();
  await node?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const until = (match: (status: SyncStatus) => boolean) => untilStatus(engine!, STREAM, match);

it("a stored id pushed again with other content is reported as id-conflict and dropped", async () => {
  node = await startNode({ persistTo: stateDir });
  const token = await devToken(node, "user");
  const local = new MemoryLocalLog();
  engine = createSyncEngine({
    local,
    transport: createWebSocketTransport({ url: node.url, token, WebSocket: WebSocket as never }),
    device: "d1",
    actor: "user",
    deciders: [account],
  });
  const rejected: RejectedNotice[] = [];
  engine.onRejected((notice) => rejected.push(notice));
  engine.start(STREAM);
  await engine.execute(STREAM, account, { deposit: 1 });
  await until((s) => s.state === "synced" && s.confirmedHead === 1);

  const [stored] = await local.readConfirmed(STREAM);
  const { position: _position, recordedAt: _recordedAt, ...event } = stored!;
  const changed = { ...event, data: { amount: 100 } };
  await local.addPending(STREAM, [changed]);
  await engine.kick(STREAM);
  await engine.execute(STREAM, account, { deposit: 2 });
  const status = await until((s) => s.state === "synced" && s.confirmedHead === 2);

  expect(rejected).toMatchObject([{ stream: STREAM, code: "id-conflict", events: [changed] }]);
  expect(status.lastError).toMatchObject({
    code: "id-conflict",
    details: { id: stored!.id, position: 1 },
  });
  expect((await local.readConfirmed(STREAM)).map((e) => e.data)).toEqual([
    { amount: 1 },
    { amount: 2 },
  ]);
  expect(await local.readPending(STREAM)).toEqual([]);
}, 60_000);

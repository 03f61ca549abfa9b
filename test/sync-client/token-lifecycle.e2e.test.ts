// Tokens expire, against a real node (`wrangler dev`): the node closes a socket whose token
// expired (an `unauthorized` frame, then 4401), even a silent one. A long-lived engine on
// 3-second dev tokens keeps syncing across five expiries: what it writes after each one reaches
// a second client. A refused fresh token shows as `unauthorized`, and the engine recovers by
// itself once its token function gives a working token again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLocalLog, type SyncStatus } from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport, type SyncEngine } from "@chronicle/sync";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { account } from "../../packages/sync/src/__fixtures__/account.ts";
import { devToken, type RunningNode, startNode } from "../sync-node/node-process.ts";
import { untilStatus } from "./until-status.ts";

const stateDir = mkdtempSync(join(tmpdir(), "chronicle-token-e2e-"));
let node: RunningNode;
const engines: SyncEngine[] = [];
beforeAll(async () => {
  node = await startNode({ persistTo: stateDir });
});
afterAll(async () => {
  for (const engine of engines) engine.close();
  await node?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** A dev token valid for `ttlSeconds` (the route signs tokens for anyone: dev only). */
async function shortToken(ttlSeconds: number): Promise<string> {
  const response = await fetch(`${node.url}/v1/dev/token`, {
    method: "POST",
    body: JSON.stringify({ sub: "user", streams: { "*": "write" }, ttlSeconds }),
  });
  if (!response.ok) throw new Error(`dev token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

function device(name: string, token: () => Promise<string>) {
  const local = new MemoryLocalLog();
  const engine = createSyncEngine({
    local,
    transport: createWebSocketTransport({ url: node.url, token, WebSocket: WebSocket as never }),
    device: name,
    actor: "user",
    deciders: [account],
    backoff: { initialMs: 100, maxMs: 1_000 },
  });
  engines.push(engine);
  const states: SyncStatus[] = [];
  engine.onSyncStatus(STREAM, (status) => states.push(status));
  return { local, engine, states };
}

let STREAM = "";

const until = (engine: SyncEngine, match: (status: SyncStatus) => boolean) =>
  untilStatus(engine, STREAM, match);

it("a long-lived engine on 3-second tokens keeps syncing across five expiries", async () => {
  STREAM = `account:tokens-${Date.now()}`;
  let issued = 0;
  let onIssued = () => {};
  const writer = device("writer", async () => {
    const token = await shortToken(3);
    issued++;
    onIssued();
    return token;
  });
  const reader = device("reader", () => devToken(node, "reader"));
  writer.engine.start(STREAM);
  reader.engine.start(STREAM);
  await until(writer.engine, (s) => s.state === "synced");
  for (let round = 1; round <= 5; round++) {
    // Wait, silent, until the node closes the socket at the token's expiry and the engine has
    // connected again with a fresh token.
    const next = issued + 1;
    await new Promise<void>((resolve) => {
      onIssued = () => issued >= next && resolve();
    });
    await until(writer.engine, (s) => s.state === "synced");
    await writer.engine.execute(STREAM, account, { deposit: round });
    await until(reader.engine, (s) => s.confirmedHead === round);
  }
  await until(writer.engine, (s) => s.state === "synced" && s.confirmedHead === 5);
  expect(await reader.local.readConfirmed(STREAM)).toEqual(
    await writer.local.readConfirmed(STREAM),
  );
  expect((await reader.local.readConfirmed(STREAM)).map((e) => e.data)).toEqual(
    [1, 2, 3, 4, 5].map((amount) => ({ amount })),
  );
  // The node closed the expired sockets (4401 after an unauthorized frame); the app never saw
  // the stream stop.
  expect(writer.states.filter((s) => s.lastError?.code === "unauthorized").length).toBeGreaterThan(
    0,
  );
  expect(writer.states.map((s) => s.state)).not.toContain("unauthorized");
  expect(writer.states.map((s) => s.state)).not.toContain("error");
}, 90_000);

it("a refused fresh token shows unauthorized; the engine recovers once a token works", async () => {
  STREAM = `account:refused-${Date.now()}`;
  let loggedIn = true;
  const writer = device("writer", async () => (loggedIn ? shortToken(3) : "not.a.token"));
  const reader = device("reader", () => devToken(node, "reader"));
  writer.engine.start(STREAM);
  reader.engine.start(STREAM);
  await until(writer.engine, (s) => s.state === "synced");

  loggedIn = false; // the user's session ended: the next token is refused
  const refused = await until(writer.engine, (s) => s.state === "unauthorized");
  expect(refused.lastError).toMatchObject({ code: "unauthorized" });
  await writer.engine.execute(STREAM, account, { deposit: 7 });
  await until(writer.engine, (s) => s.state === "unauthorized" && s.pending === 1);

  loggedIn = true; // logged in again: the engine finds out by itself on its next attempt
  await until(writer.engine, (s) => s.state === "synced" && s.pending === 0);
  await until(reader.engine, (s) => s.confirmedHead === 1);
  expect((await reader.local.readConfirmed(STREAM)).map((e) => e.data)).toEqual([{ amount: 7 }]);
}, 60_000);

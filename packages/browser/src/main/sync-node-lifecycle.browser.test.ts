// Browser tier, end to end with a real node (`wrangler dev`, from the browser config's global
// setup), over Chromium's own WebSocket and IndexedDB:
// - tokens expire: a host on 2-second tokens keeps syncing across expiries; a refused fresh
//   token reaches the page as `unauthorized` (a browser cannot see a refused upgrade's status:
//   the transport asks the node why), and the host recovers by itself once a token works;
// - event ids are unique per stream: the host stores an event from the node whose id another of
//   its streams already holds, and goes on syncing both.
import type { SyncStatus } from "@chronicle/core";
import { createSyncStarter, createWebSocketTransport, type TokenSource } from "@chronicle/sync";
import { expect, inject, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { hostChronicle } from "../worker/host.ts";
import { createChronicle } from "./create-chronicle.ts";

// Provided by test/browser-sync/global-setup.ts (declared there too, for the setup's program).
declare module "vitest" {
  export interface ProvidedContext {
    syncNode: { url: string; tokens: { alice: string; bob: string } };
  }
}

const run = crypto.randomUUID().slice(0, 8);

async function host(label: string, user: string, token: TokenSource, streams: string[]) {
  const { url } = inject("syncNode");
  const { port1, port2 } = new MessageChannel();
  hostChronicle(
    {
      name: `lifecycle-${run}-${label}`,
      deciders: [board],
      projections: [boardView],
      actor: user,
      sync: createSyncStarter({
        transport: createWebSocketTransport({ url, token }),
        streams,
        followNetwork: false,
        backoff: { initialMs: 100, maxMs: 1_000 },
      }),
    },
    port2,
  );
  const chronicle = await createChronicle({ worker: port1, persist: false });
  /** Resolves once the stream's status matches (now or later). */
  const status = (stream: string, match: (status: SyncStatus) => boolean) =>
    new Promise<SyncStatus>((resolve) => {
      const off = chronicle.onSyncStatus(stream, (current) => {
        if (!match(current)) return;
        queueMicrotask(() => off());
        resolve(current);
      });
    });
  const synced = (stream: string, head: number) =>
    status(stream, (s) => s.state === "synced" && s.pending === 0 && s.confirmedHead === head);
  return { chronicle, status, synced };
}

/** A dev token for alice that the node accepts for `ttlSeconds`. */
async function shortToken(ttlSeconds: number): Promise<string> {
  const { url } = inject("syncNode");
  const response = await fetch(`${url}/v1/dev/token`, {
    method: "POST",
    body: JSON.stringify({ sub: "alice", streams: { "*": "write" }, ttlSeconds }),
  });
  return ((await response.json()) as { token: string }).token;
}

it("tokens expire: a host keeps syncing across expiries, shows a refused token as unauthorized, and recovers", async () => {
  const S = `board:${run}-tokens`;
  let loggedIn = true;
  let issued = 0;
  let onIssued = () => {};
  const a = await host(
    "tokens-a",
    "alice",
    async () => {
      const token = loggedIn ? await shortToken(2) : "not.a.token";
      issued++;
      onIssued();
      return token;
    },
    [S],
  );
  const b = await host("tokens-b", "bob", inject("syncNode").tokens.bob, [S]);
  await a.status(S, (s) => s.state === "synced");
  for (let round = 1; round <= 2; round++) {
    // The node closes the socket at the token's expiry; the engine connects with a fresh one.
    const next = issued + 1;
    await new Promise<void>((resolve) => {
      onIssued = () => issued >= next && resolve();
    });
    await a.status(S, (s) => s.state === "synced");
    await a.chronicle.execute(S, board, { type: "addCard", id: `r${round}`, title: "R" });
    await b.synced(S, round);
  }

  loggedIn = false;
  const refused = await a.status(S, (s) => s.state === "unauthorized");
  expect(refused.lastError).toMatchObject({ code: "unauthorized" });
  await a.chronicle.execute(S, board, { type: "addCard", id: "late", title: "L" });
  await a.status(S, (s) => s.state === "unauthorized" && s.pending === 1);
  loggedIn = true;
  await Promise.all([a.synced(S, 3), b.synced(S, 3)]);
  expect(Object.keys((await b.chronicle.load(boardView, S))?.titles ?? {}).sort()).toEqual([
    "late",
    "r1",
    "r2",
  ]);
  await Promise.all([a.chronicle.close(), b.chronicle.close()]);
}, 60_000);

it("stores an event from the node whose id another of its streams already holds", async () => {
  const { url, tokens } = inject("syncNode");
  const S = `board:${run}-ids-s`;
  const T = `board:${run}-ids-t`;
  const a = await host("ids", "alice", tokens.alice, [S, T]);
  await a.chronicle.execute(S, board, { type: "addCard", id: "x", title: "in S" });
  await a.synced(S, 1);
  const [stored] = await a.chronicle.readStream(S);
  const { position: _position, recordedAt: _recordedAt, ...event } = stored!;
  // Another writer used the same id in stream T.
  const response = await fetch(`${url}/v1/streams/${T}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens.bob}`, "content-type": "application/json" },
    body: JSON.stringify({ events: [{ ...event, stream: T, data: { id: "x", title: "in T" } }] }),
  });
  expect(response.status).toBe(200);
  await a.synced(T, 1);
  expect((await a.chronicle.readStream(T)).map((e) => [e.id, e.data])).toEqual([
    [stored!.id, { id: "x", title: "in T" }],
  ]);
  expect((await a.chronicle.readStream(S)).map((e) => e.data)).toEqual([
    { id: "x", title: "in S" },
  ]);
  await a.chronicle.execute(T, board, { type: "addCard", id: "y", title: "Y" });
  await a.synced(T, 2);
  expect(await a.chronicle.load(boardView, T)).toMatchObject({ count: 2 });
  await a.chronicle.close();
});

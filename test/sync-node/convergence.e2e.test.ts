// Three clients push concurrently to one stream of a real node; every client ends with the
// node's log exactly (same ids at the same positions), learned from its acks and live frames.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { devToken, type RunningNode, startNode } from "./node-process.ts";
import { makeEvents, ProtocolClient, readLog } from "./ws-client.ts";

let node: RunningNode;
const stateDir = mkdtempSync(join(tmpdir(), "chronicle-e2e-"));

beforeAll(async () => {
  node = await startNode({ persistTo: stateDir });
});
afterAll(async () => {
  await node?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

it("converges 3 concurrent clients on the identical log", async () => {
  const stream = "board:converge";
  const names = ["ana", "ben", "cy"];
  const clients = await Promise.all(
    names.map(async (name) =>
      ProtocolClient.connect(node.wsUrl, stream, await devToken(node, name)),
    ),
  );
  for (const client of clients) client.send({ t: "hello", protocol: 1, after: 0 });
  await Promise.all(clients.map((c) => c.waitFor((f) => f.t === "welcome")));

  // Each client pipelines 15 pushes of 1..4 events, plus one re-push of its first batch (a
  // retry after a lost ack), all in flight at once.
  const pushes = clients.map(async (client, c) => {
    const batches = Array.from({ length: 15 }, (_, b) =>
      makeEvents(stream, (b % 4) + 1, `${names[c]}-${b}`),
    );
    const answers = await Promise.all([
      ...batches.map((batch, b) => client.push(`${names[c]}-${b}`, batch)),
      client.push(`${names[c]}-retry`, batches[0]!),
    ]);
    for (const answer of answers) expect(answer.t).toBe("ack");
    return batches.flat().length;
  });
  const total = (await Promise.all(pushes)).reduce((sum, n) => sum + n, 0);

  const token = await devToken(node, "auditor", { [stream]: "read" });
  const { events, head } = await readLog(node.url, stream, token);
  expect(head).toBe(total);
  expect(events.map((e) => e.position)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(total);

  const nodeLog = events.map((e) => [e.position, e.id]);
  for (const client of clients) {
    await client.waitForLog(head);
    expect([...client.log.entries()].sort((a, b) => a[0] - b[0])).toEqual(nodeLog);
    client.close();
  }
  // meta.actor is the pusher's authenticated name, whatever the client wrote.
  expect(new Set(events.map((e) => e.meta.actor))).toEqual(new Set(names));
});

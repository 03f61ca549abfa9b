// Rule 4 against a real process: a node killed with SIGKILL (whole process group, no shutdown)
// right after acknowledging loses nothing when restarted on the same state directory.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { devToken, type RunningNode, startNode } from "./node-process.ts";
import { makeEvents, ProtocolClient, readLog } from "./ws-client.ts";

const stateDir = mkdtempSync(join(tmpdir(), "chronicle-crash-"));
const nodes: RunningNode[] = [];
afterAll(async () => {
  for (const node of nodes) await node.stop("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

it("keeps every acknowledged event across a SIGKILL and restart", async () => {
  const stream = "board:crash";
  const first = await startNode({ persistTo: stateDir });
  nodes.push(first);
  const writer = await ProtocolClient.connect(first.wsUrl, stream, await devToken(first, "w"));
  writer.send({ t: "hello", protocol: 1, after: 0 });
  const welcome = await writer.waitFor((f) => f.t === "welcome");

  const acked: Array<[number, string]> = [];
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, b) => writer.push(`b${b}`, makeEvents(stream, 5, `b${b}`))),
  );
  for (const answer of answers) {
    if (answer.t !== "ack") throw new Error(`expected an ack, got ${JSON.stringify(answer)}`);
    for (const result of answer.results) acked.push([result.position, result.id]);
  }
  // The very last ack has just arrived: kill now, with no chance to flush anything else.
  await first.stop("SIGKILL");
  // The socket dies with the process (no close handshake).
  if (writer.ws.readyState !== writer.ws.CLOSED) await once(writer.ws, "close");

  const second = await startNode({ persistTo: stateDir });
  nodes.push(second);
  const token = await devToken(second, "auditor", { [stream]: "read" });
  const { events, head } = await readLog(second.url, stream, token);
  expect(head).toBe(100);
  expect(events.map((e) => [e.position, e.id])).toEqual(acked.sort((a, b) => a[0] - b[0]));

  const reader = await ProtocolClient.connect(second.wsUrl, stream, token);
  reader.send({ t: "hello", protocol: 1, after: 100 });
  const rewelcome = await reader.waitFor((f) => f.t === "welcome");
  expect(rewelcome).toEqual({ ...welcome, head: 100 });
  reader.close();
  await second.stop();
});

// Seeded random schedules against the real node in workerd: several clients push (sometimes
// re-pushing a batch as after a lost ack, sometimes strictly), disconnect and reconnect from
// their cursor. Afterwards every client's confirmed log equals the node's, exactly.
import { describe, expect, it } from "vitest";
import { connect, events, freshStream, logOf, type NodeSocket } from "./node-client.ts";

/** mulberry32: a tiny seeded PRNG so a failing schedule can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Device {
  socket: NodeSocket;
  /** position -> id, learned from acks and events frames. */
  log: Map<number, string>;
  pushed: ReturnType<typeof events>[];
  /** Positions the node reported with two different ids (must stay empty). */
  contradictions: string[];
}

function learn(device: Device, position: number, id: string): void {
  const known = device.log.get(position);
  if (known !== undefined && known !== id)
    device.contradictions.push(`${position}: ${known}/${id}`);
  device.log.set(position, id);
}

/** The last position up to which the device's log has no gap. */
const gaplessCursor = (device: Device) =>
  [...device.log.keys()].sort((a, b) => a - b).reduce((max, p) => (p === max + 1 ? p : max), 0);

async function attach(stream: string, device: Device): Promise<void> {
  const socket = await connect(stream);
  device.socket = socket;
  socket.send({ t: "hello", protocol: 1, after: gaplessCursor(device) });
  socket.ws.addEventListener("message", (message) => {
    const frame = JSON.parse(String(message.data));
    if (frame.t === "events") for (const e of frame.events) learn(device, e.position, e.id);
    if (frame.t === "ack") for (const r of frame.results) learn(device, r.position, r.id);
  });
  await socket.next((f) => f.t === "welcome");
}

describe("convergence under random schedules", () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    it(`converges every device on the node's log (seed ${seed})`, async () => {
      const next = random(seed);
      const stream = freshStream("converge");
      const devices: Device[] = [];
      for (let d = 0; d < 4; d++) {
        const device = { log: new Map(), pushed: [], contradictions: [] } as unknown as Device;
        await attach(stream, device);
        devices.push(device);
      }
      const inFlight: Promise<unknown>[] = [];
      // A request on a socket that is then dropped may never be answered (a lost ack).
      const request = (device: Device, frame: Parameters<NodeSocket["request"]>[0]) =>
        inFlight.push(Promise.race([device.socket.request(frame), device.socket.closed]));
      for (let step = 0; step < 40; step++) {
        const device = devices[Math.floor(next() * devices.length)]!;
        const roll = next();
        if (roll < 0.1) {
          // Drop the connection and come back from the last gapless position.
          device.socket.close();
          await attach(stream, device);
        } else if (roll < 0.25 && device.pushed.length > 0) {
          const batch = device.pushed[Math.floor(next() * device.pushed.length)]!;
          request(device, { t: "push", req: `s${seed}-${step}`, events: batch });
        } else if (roll < 0.35) {
          // Strict: decided on what the device has seen; conflicts (stores nothing) if it moved.
          const batch = events(stream, 1, `s${seed}-${step}-strict`);
          const expected = Math.max(0, ...device.log.keys());
          request(device, { t: "push", req: `s${seed}-${step}`, events: batch, expected });
        } else {
          const batch = events(stream, 1 + Math.floor(next() * 3), `s${seed}-${step}`);
          device.pushed.push(batch);
          request(device, { t: "push", req: `s${seed}-${step}`, events: batch });
        }
      }
      await Promise.all(inFlight);
      const nodeLog = await logOf(stream);
      const expected = nodeLog.map((e) => [e.position, e.id]);
      expect(new Set(nodeLog.map((e) => e.id)).size, `seed ${seed}`).toBe(nodeLog.length);
      for (const device of devices) {
        // Only the tail: the pull's answer comes after every live frame sent before it, so
        // anything missing in the middle of the device's log stays missing and fails below.
        const answer = await device.socket.request({
          t: "pull",
          req: "final",
          after: Math.max(0, ...device.log.keys()),
          limit: 1000,
        });
        if (answer.t === "events") for (const e of answer.events) learn(device, e.position, e.id);
        expect(device.contradictions, `seed ${seed}`).toEqual([]);
        expect(
          [...device.log.entries()].sort((a, b) => a[0] - b[0]),
          `seed ${seed}`,
        ).toEqual(expected);
      }
    });
  }
});

import { MemoryLocalLog } from "@chronicle/core";
import { expect, it } from "vitest";
import { MemoryNetwork } from "../testing/memory-network.ts";
import { MemoryNode } from "../testing/memory-node.ts";
import { followNetworkStatus } from "./network-status.ts";
import { createSyncEngine } from "./sync-engine.ts";

it("follows online/offline events of the page", () => {
  const network = new MemoryNetwork(new MemoryNode(), 1);
  const engine = createSyncEngine({
    local: new MemoryLocalLog(),
    transport: network.transport(),
    device: "d",
    scheduler: network.scheduler,
  });
  const target = new EventTarget() as EventTarget & { navigator: { onLine: boolean } };
  target.navigator = { onLine: false };
  const stop = followNetworkStatus(engine, target);
  expect(engine.online).toBe(false);
  target.dispatchEvent(new Event("online"));
  expect(engine.online).toBe(true);
  target.dispatchEvent(new Event("offline"));
  expect(engine.online).toBe(false);
  stop();
  target.dispatchEvent(new Event("online"));
  expect(engine.online).toBe(false);
});

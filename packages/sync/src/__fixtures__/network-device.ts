// internal: test fixture. A device on a MemoryNetwork: an in-memory log and a sync engine for the
// account decider, on the network's clock (what the sync tests over a MemoryNode start from).
import { MemoryLocalLog } from "@chronicle/core";
import { createSyncEngine, type SyncEngineOptions } from "../client/sync-engine.ts";
import type { TokenSource } from "../client/token.ts";
import type { MemoryNetwork } from "../testing/memory-network.ts";
import { account } from "./account.ts";

/** `token` for the transport, `local` to reuse a log, and any other engine option. */
export type NetworkDeviceOptions = Partial<
  Omit<SyncEngineOptions, "transport" | "device" | "local">
> & {
  token?: TokenSource;
  local?: MemoryLocalLog;
};

export function networkDevice(
  network: MemoryNetwork,
  name: string,
  { token, local = new MemoryLocalLog(), ...options }: NetworkDeviceOptions = {},
) {
  const transport = network.transport(token === undefined ? {} : { token });
  const engine = createSyncEngine({
    local,
    transport,
    device: name,
    deciders: [account],
    scheduler: network.scheduler,
    ...options,
  });
  return { local, transport, engine };
}

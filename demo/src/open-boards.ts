// internal: not exported. The boards a device's pages show are kept live by its worker: the page
// names its board on a BroadcastChannel, the worker's sync engine holds a connection for it (the
// other boards are synced by the follower when they move) and reports its status to the page.
import type { SyncContext } from "@chronicle/core";
import type { SyncEngine } from "@chronicle/sync";
import { BOARD_PREFIX } from "./boards.ts";

/** The BroadcastChannel on which a device's pages name the board they show. */
export const openBoardsChannel = (device: string) => `chronicle-demo-open-boards-${device}`;

/** What travels on it: a page names its board; a worker that starts syncing asks again. */
export type OpenBoardsMessage = { open: string } | { ask: true };

/**
 * In the worker, once its sync engine exists: starts every board a page of this device names
 * (a live connection, its sync status reported to the pages, its writes pushed at once), and
 * asks the open pages to name theirs, since they may have done so before the engine existed.
 */
export function keepOpenBoardsLive(device: string, engine: SyncEngine, context: SyncContext) {
  const live = new Set<string>();
  const channel = new BroadcastChannel(openBoardsChannel(device));
  channel.onmessage = (message: MessageEvent<OpenBoardsMessage>) => {
    const stream = "open" in message.data ? message.data.open : undefined;
    if (typeof stream !== "string" || !stream.startsWith(BOARD_PREFIX) || live.has(stream)) return;
    live.add(stream);
    engine.onSyncStatus(stream, (status) => context.reportStatus(stream, status));
    engine.start(stream);
  };
  channel.postMessage({ ask: true } satisfies OpenBoardsMessage);
}

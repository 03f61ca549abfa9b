// internal: not exported. Which board the page shows: `#/b/<id>` in the URL (a hash, so the
// PWA's one cached page serves every board, offline too), the default board without one.
import { useEffect, useSyncExternalStore } from "react";
import { DEFAULT_BOARD } from "./boards.ts";
import { type OpenBoardsMessage, openBoardsChannel } from "./open-boards.ts";

const routePattern = /^#\/b\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/;

/** The board id a URL hash names, or the default board's. */
export function boardOfHash(hash: string): string {
  return routePattern.exec(hash)?.[1] ?? DEFAULT_BOARD;
}

/** The hash that opens a board. */
export const boardHash = (id: string) => `#/b/${id}`;

/** Opens a board in this page (a new history entry: Back returns to the previous board). */
export function openBoard(id: string) {
  location.hash = boardHash(id);
}

const onHashChange = (listener: () => void) => {
  addEventListener("hashchange", listener);
  return () => removeEventListener("hashchange", listener);
};

/** The id of the board the URL names, following Back/Forward and links. */
export function useBoardRoute(): string {
  return useSyncExternalStore(onHashChange, () => boardOfHash(location.hash));
}

/** Tells this device's worker which board the page shows, so it keeps that board live. */
export function useAnnounceOpenBoard(device: string, stream: string) {
  useEffect(() => {
    const channel = new BroadcastChannel(openBoardsChannel(device));
    const announce = () => channel.postMessage({ open: stream } satisfies OpenBoardsMessage);
    channel.onmessage = (message: MessageEvent<OpenBoardsMessage>) => {
      if ("ask" in message.data) announce();
    };
    announce();
    return () => channel.close();
  }, [device, stream]);
}

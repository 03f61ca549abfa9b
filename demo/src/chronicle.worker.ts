// The demo's worker: the local log in IndexedDB, synced through the local sync node. Each
// "device" (`?device=` in the page URL) has its own database, so two windows act as two devices.
// The node is on the page's origin: the node itself serves the deployed demo, and under
// `npm start` the Vite dev server proxies `/sync` to it. Each visitor signs in anonymously
// (sign-in.ts) and its devices sync with the short-lived tokens that gives.

import { hostChronicle } from "@chronicle/browser/worker";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { board, boardView, networkChannel, STREAM } from "./board.ts";
import { BOARD_PREFIX, boardInfo, boardList, demoUndoLabel } from "./boards.ts";
import { cardReminder } from "./card-reminder.ts";
import { description, descriptionView } from "./description.ts";
import { keepOpenBoardsLive } from "./open-boards.ts";
import { nodeUrl as node, visitorToken } from "./sign-in.ts";

hostChronicle({
  name: "chronicle-demo",
  deciders: [board, boardInfo, description.decider],
  projections: [boardView, descriptionView, boardList],
  // Due-date reminders: a timeout per card with a due date (card-reminder.ts).
  processes: [cardReminder],
  actor: "demo",
  // What the Undo / Redo buttons say. Typing within half a second is one step (the default).
  undo: { labelOf: demoUndoLabel },
  sync: (context) => {
    const token = visitorToken(node);
    return createSyncStarter({
      streams: [STREAM],
      transport: createWebSocketTransport({ url: node, token }),
      // Every board on the node over one watch socket: a board that moves (one made on another
      // device too) is synced, so the board list (a cross-stream projection) shows it.
      follow: { url: node, token, prefixes: [BOARD_PREFIX] },
      backoff: { initialMs: 250, maxMs: 5_000 },
      onEngine: (engine) => {
        // The page's "Offline" switch: cut (or restore) this device's connection to the node.
        const switchboard = new BroadcastChannel(networkChannel(self.name));
        switchboard.onmessage = (message: MessageEvent<{ online?: unknown }>) => {
          engine.setOnline(message.data.online === true);
        };
        // The board on screen is kept live; the others are synced when they move.
        keepOpenBoardsLive(self.name, engine, context);
      },
    })(context);
  },
});

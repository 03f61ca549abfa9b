// The demo's worker: the local log in IndexedDB, synced through the local sync node. Each
// "device" (`?device=` in the page URL) has its own database, so two windows act as two devices.
// The node is on the page's origin: the node itself serves the deployed demo, and under
// `npm start` the Vite dev server proxies `/sync` to it. Each visitor signs in anonymously
// (sign-in.ts) and its devices sync with the short-lived tokens that gives.

import { hostChronicle } from "@chronicle/browser/worker";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { board, boardView, networkChannel, STREAM, undoLabel } from "./board.ts";
import { description, descriptionView } from "./description.ts";
import { nodeUrl as node, visitorToken } from "./sign-in.ts";

hostChronicle({
  name: "chronicle-demo",
  deciders: [board, description.decider],
  projections: [boardView, descriptionView],
  actor: "demo",
  // What the Undo / Redo buttons say. Typing within half a second is one step (the default).
  undo: { labelOf: undoLabel },
  sync: createSyncStarter({
    streams: [STREAM],
    transport: () => createWebSocketTransport({ url: node, token: visitorToken(node) }),
    backoff: { initialMs: 250, maxMs: 5_000 },
    // The page's "Offline" switch: cut (or restore) this device's connection to the node.
    onEngine: (engine) => {
      const switchboard = new BroadcastChannel(networkChannel(self.name));
      switchboard.onmessage = (message: MessageEvent<{ online?: unknown }>) => {
        engine.setOnline(message.data.online === true);
      };
    },
  }),
});

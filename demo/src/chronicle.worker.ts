// The demo's worker: the local log in IndexedDB, synced through the local sync node. Each
// "device" (`?device=` in the page URL) has its own database, so two windows act as two devices.
// The node is reached through the Vite dev server's `/sync` proxy (same origin: no CORS), and
// each device gets a token for its user from the node's dev-only token route.

import { hostChronicle } from "@chronicle/browser/worker";
import { ChronicleError } from "@chronicle/core";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { z } from "zod";
import { board, boardView, networkChannel, STREAM, undoLabel } from "./board.ts";
import { description, descriptionView } from "./description.ts";

const node = `${self.location.origin}/sync`;
const tokenResponse = z.object({ token: z.string() });

async function devToken(sub: string): Promise<string> {
  const response = await fetch(`${node}/v1/dev/token`, {
    method: "POST",
    body: JSON.stringify({ sub, streams: { "board:*": "write" } }),
  });
  if (!response.ok)
    throw new ChronicleError("offline", `the sync node answered ${response.status}`);
  return tokenResponse.parse(await response.json()).token;
}

hostChronicle({
  name: "chronicle-demo",
  deciders: [board, description.decider],
  projections: [boardView, descriptionView],
  actor: "demo",
  // What the Undo / Redo buttons say. Typing within half a second is one step (the default).
  undo: { labelOf: undoLabel },
  sync: createSyncStarter({
    streams: [STREAM],
    transport: (context) =>
      createWebSocketTransport({ url: node, token: () => devToken(context.actor) }),
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

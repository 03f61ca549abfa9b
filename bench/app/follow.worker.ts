// internal: not exported. The worker module of the many-streams benchmark
// (bench/many-streams.browser.bench.ts), built for production (bench/prod-build.ts) beside
// bench.worker.ts: the bench app, synced, following prefixes with createSyncStarter's `follow`.
// Configured by the worker URL's query: `?node=<url>&token=<token>&follow=p1:,p2:`. It tells the
// page, on the BroadcastChannel `chronicle-bench-follow`, the WebSockets it holds (every one it
// opens goes through a counting class: the watch socket and the sync transport's), the heads the
// node sends, and the streams whose confirmed log changed.
import { hostChronicle } from "@chronicle/browser/worker";
import { createSyncStarter, createWebSocketTransport } from "@chronicle/sync";
import { itemAdded, tally, tallyView } from "./tally.ts";

const query = new URLSearchParams(globalThis.location.search);
const node = query.get("node") ?? "";
const token = query.get("token") ?? "";
const prefixes = (query.get("follow") ?? "").split(",").filter(Boolean);

/** What the worker posts on `chronicle-bench-follow`. */
export type FollowReport =
  | { type: "sockets"; held: number; peak: number }
  | { type: "heads"; heads: { stream: string; head: number }[] }
  | { type: "changed"; stream: string };

const channel = new BroadcastChannel("chronicle-bench-follow");
const report = (message: FollowReport) => channel.postMessage(message);

/** Every WebSocket the worker opens goes through this class: `held` are open now. */
const sockets = { held: 0, peak: 0 };
class CountingWebSocket extends WebSocket {
  #counted = true;
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    sockets.held += 1;
    sockets.peak = Math.max(sockets.peak, sockets.held);
    report({ type: "sockets", ...sockets });
    this.addEventListener("close", () => this.#release());
  }
  override close(code?: number, reason?: string): void {
    this.#release();
    super.close(code, reason);
  }
  #release(): void {
    if (!this.#counted) return;
    this.#counted = false;
    sockets.held -= 1;
    report({ type: "sockets", ...sockets });
  }
}

hostChronicle({
  name: "chronicle-bench",
  events: [itemAdded],
  deciders: [tally],
  projections: [tallyView],
  actor: "follower",
  sync: createSyncStarter({
    transport: createWebSocketTransport({ url: node, token, WebSocket: CountingWebSocket }),
    followNetwork: false,
    onEngine: (engine) => engine.onChange((stream) => report({ type: "changed", stream })),
    follow: {
      url: node,
      token,
      prefixes,
      concurrency: 16,
      WebSocket: CountingWebSocket,
      onHeads: (heads) => report({ type: "heads", heads }),
    },
  }),
});

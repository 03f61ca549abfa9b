// A ready-made starter for a host's sync seam (the browser worker's `hostChronicle({ sync })`):
// creates the engine over the host's LocalLog and connects its events to the host. The seam's
// types (SyncContext, SyncStarter) are core's, so this package does not depend on the host's.
import type { SyncContext, SyncStarter } from "@chronicle/core";
import { type FollowStreamsOptions, followStreams } from "./follow-streams.ts";
import { followNetworkStatus } from "./network-status.ts";
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from "./sync-engine.ts";
import type { SyncTransport } from "./transport.ts";

/**
 * What {@link createSyncStarter} takes: the engine's options, but the host gives the local log,
 * the device and the deciders.
 */
export interface SyncStarterOptions
  extends Omit<SyncEngineOptions, "local" | "transport" | "device" | "deciders"> {
  /** How to reach the node, or a function of the context that returns it. */
  transport: SyncTransport | ((context: SyncContext) => SyncTransport);
  /** Streams kept live from the start; streams with pending events and streams written to are added. */
  streams?: readonly string[];
  /**
   * Streams written to that are not in `streams`: `"live"` starts them (a connection each, kept
   * until the engine stops); `"once"` pushes their pending events with `syncOnce` after each
   * write (connect, push, catch up, disconnect), for apps with many streams of which few are on
   * screen. @default "live"
   */
  written?: "live" | "once";
  /** Follow the runtime's online/offline events (`followNetworkStatus`). @default true when it has them */
  followNetwork?: boolean;
  /** Called with the engine once created (to call `setOnline`, `start`, `syncOnce` yourself). */
  onEngine?: (engine: SyncEngine) => void;
  /**
   * Prefixes to follow (`followStreams`): one watch socket each, whatever the number of streams
   * under it; a stream that moves on the node is synced with `syncOnce`, so the host's
   * projections see other devices' changes to streams it does not keep live.
   *
   * @example
   * follow: { url: "https://sync.example.com", token: getToken, prefixes: ["board:"] }
   */
  follow?: Omit<FollowStreamsOptions, "prefix" | "engine" | "local"> & {
    /** The prefixes to follow, each holding a ':' (e.g. `["board:"]`). */
    prefixes: readonly string[];
  };
}

/**
 * Returns a sync starter for a host seam: the leader calls it, it creates a SyncEngine over the
 * host's LocalLog, starts the configured streams and every stream with pending events, starts
 * (or kicks) a stream when the host writes pending events to it, and reports statuses,
 * changes and rejections back to the host. `stop` closes the engine.
 *
 * @example
 * // chronicle.worker.ts
 * hostChronicle({
 *   ...app,
 *   sync: createSyncStarter({ transport: createWebSocketTransport({ url, token }), streams: ["board:1"] }),
 * });
 */
export function createSyncStarter(options: SyncStarterOptions): SyncStarter {
  const {
    transport,
    streams = [],
    written = "live",
    followNetwork,
    onEngine,
    follow,
    ...engineOptions
  } = options;
  const listed = new Set(streams);
  return async (context) => {
    const engine = createSyncEngine({
      ...engineOptions,
      actor: engineOptions.actor ?? context.actor,
      local: context.localLog,
      transport: typeof transport === "function" ? transport(context) : transport,
      device: context.deviceId,
      deciders: context.deciders,
    });
    const started = new Set<string>();
    const reported = new Set<string>();
    const cleanups: (() => void)[] = [];
    const report = (stream: string) => {
      if (reported.has(stream)) return;
      reported.add(stream);
      // Reports the current status at once, then every change.
      cleanups.push(engine.onSyncStatus(stream, (status) => context.reportStatus(stream, status)));
    };
    const start = (stream: string) => {
      if (written === "once" && !listed.has(stream)) {
        report(stream);
        // Failures show in the stream's status; pending events stay for the next write or start.
        return void engine.syncOnce(stream).catch(() => {});
      }
      if (started.has(stream)) return void engine.kick(stream);
      started.add(stream);
      report(stream);
      engine.start(stream);
    };
    cleanups.push(
      engine.onChange((stream) => context.changed(stream)),
      engine.onRejected((notice) => context.reportRejected(notice)),
      context.onLocalWrite(start),
    );
    const events = globalThis as { addEventListener?: unknown };
    if (followNetwork ?? typeof events.addEventListener === "function") {
      cleanups.push(followNetworkStatus(engine));
    }
    onEngine?.(engine);
    if (follow) {
      const { prefixes, ...followOptions } = follow;
      for (const prefix of prefixes) {
        const follower = followStreams({
          ...followOptions,
          prefix,
          // A followed stream's status reaches the host like a written one's.
          engine: {
            syncOnce: (stream) => {
              report(stream);
              return engine.syncOnce(stream);
            },
          },
          local: context.localLog,
        });
        cleanups.push(() => follower.close());
      }
    }
    for (const stream of streams) start(stream);
    for (const stream of await context.localLog.streamsWithPending()) start(stream);
    return {
      stop() {
        for (const cleanup of cleanups.splice(0)) cleanup();
        engine.close();
      },
    };
  };
}

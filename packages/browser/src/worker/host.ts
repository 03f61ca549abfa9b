// The worker side of createChronicle: exposes the local engine to the main thread with comlink.
import { ChronicleError, toChronicleError } from "@chronicle/core";
import { expose, type Remote, releaseProxy } from "comlink";
import { installErrorTransfer } from "../shared/error-transfer.ts";
import type { HostApi, HostDiagnostics, HostStatus, OpenRequest } from "../shared/host-api.ts";
import { serveCommands } from "./command-port.ts";
import type { ChronicleEngine } from "./engine.ts";
import type { EngineOptions } from "./engine-options.ts";
import { openEngine } from "./open-engine.ts";

// An engine without processes answers with an empty store rather than an error: a devtools
// panel may ask any app.
const noProcesses = {
  list: async () => [],
  get: async () => undefined,
  deadLetters: async () => [],
  retryDeadLetter: async (id: string): Promise<boolean> => {
    throw new ChronicleError("not-found", `no dead letter "${id}": this app runs no reactions`);
  },
};
const processesOf = async (engine: ChronicleEngine) => engine.processes ?? noProcesses;

/** What {@link hostChronicle} takes: the engine's options; statuses go to the main thread. */
export type HostChronicleOptions = Omit<EngineOptions, "onStatus">;

/**
 * Hosts Chronicle in a worker module: registers the app's events, deciders and projections and
 * answers the main thread's `createChronicle`. Errors reach the main thread as ChronicleErrors
 * with their code.
 *
 * @example
 * // chronicle.worker.ts
 * import { hostChronicle } from "@chronicle/browser/worker";
 * hostChronicle({ name: "kanban", events: [cardAdded], deciders: [board], projections: [boardView] });
 */
export function hostChronicle(
  options: HostChronicleOptions,
  endpoint: Parameters<typeof expose>[1] = globalThis as Parameters<typeof expose>[1],
): HostApi {
  installErrorTransfer();
  const api = createHostApi(options);
  expose(api, endpoint);
  return api;
}

/**
 * The host API over an engine opened on the first `open` call, without comlink: for hosting on
 * another transport, or for tests. It serves one client, the one that opens it: when `open`
 * brings a commands port, watches skip the records that client already received in a
 * command's answer.
 *
 * @example
 * const api = createHostApi({ name: "kanban", deciders: [board], projections: [boardView] });
 * await api.open({});
 * await api.execute("board:1", "board", { type: "addCard", title: "Write docs" });
 */
export function createHostApi(options: HostChronicleOptions): HostApi {
  let opening: Promise<ChronicleEngine> | undefined;
  let engine: ChronicleEngine | undefined;
  // Records a command's answer on the commands port carried to the client: its watchers need not
  // be posted them again (the answer is posted first, see watch), which halves what a command
  // clones.
  const replied = new WeakSet<object>();
  let stopCommands: (() => void) | undefined;
  const ready = (): ChronicleEngine => {
    if (!engine) throw new ChronicleError("internal", "Chronicle is not open (or was closed)");
    return engine;
  };
  return {
    async ping() {},
    async open(request: OpenRequest, onStatus?: (status: HostStatus) => void) {
      opening ??= openEngine({
        ...options,
        name: request.name ?? options.name,
        actor: request.actor ?? options.actor,
        onStatus: (status) => {
          // A closed main thread may have released the proxy: statuses are best effort.
          Promise.resolve(onStatus?.(status)).catch(() => {});
        },
      });
      engine = await opening;
      if (request.commands) {
        stopCommands?.();
        stopCommands = serveCommands(request.commands, ready, replied);
      }
      return engine.info();
    },
    execute: (stream, decider, command, executeOptions) =>
      ready().execute(stream, decider, command, executeOptions),
    append: (stream, events, appendOptions) => ready().append(stream, events, appendOptions),
    readStream: (stream, readOptions) => ready().store.readStream(stream, readOptions),
    read: (projection, stream) => ready().read(projection, stream),
    async watch(projection, stream, onRecord, onError) {
      return ready().watch(
        projection,
        stream,
        (record) => {
          // Posted in a task of its own: a commit made by `execute` delivers its records to
          // watchers in the commit's microtasks, before the execute reply (which carries the
          // same records) is posted; the reply goes first this way. Timers run in order.
          setTimeout(() => {
            if (replied.has(record)) return;
            Promise.resolve(onRecord(record)).catch(() => {});
          }, 0);
        },
        (error) => {
          Promise.resolve(onError?.(toChronicleError(error).toJSON())).catch(() => {});
        },
      );
    },
    async unwatch(id) {
      engine?.unwatch(id);
    },
    rebuild: (projection, stream) => ready().rebuild(projection, stream),
    async diagnostics(): Promise<HostDiagnostics> {
      const current = ready();
      return { events: await current.store.lastCheckpoint(), leader: current.isLeader };
    },
    async syncStatus(stream) {
      return ready().syncStatus(stream);
    },
    stateAt: (foldable, stream, at) => ready().stateAt(foldable, stream, at),
    resolvePoint: (stream, at) => ready().resolvePoint(stream, at),
    history: (stream, historyOptions) => ready().history(stream, historyOptions),
    diff: (foldable, stream, from, to) => ready().diff(foldable, stream, from, to),
    processList: async (query) => (await processesOf(ready())).list(query),
    processGet: async (process, id) => (await processesOf(ready())).get(process, id),
    deadLetters: async (reaction) => (await processesOf(ready())).deadLetters(reaction),
    retryDeadLetter: async (id) => (await processesOf(ready())).retryDeadLetter(id),
    undo: () => ready().undo(),
    redo: () => ready().redo(),
    undoState: () => ready().undoState(),
    clearUndo: () => ready().clearUndo(),
    async undoGroup(label, work) {
      try {
        return await ready().undoGroup(label, () => Promise.resolve(work()));
      } finally {
        // A comlink-proxied callback keeps its port open until released.
        (work as Partial<Remote<unknown>>)[releaseProxy]?.();
      }
    },
    async close() {
      const closing = engine;
      engine = undefined;
      opening = undefined;
      try {
        await closing?.close();
      } finally {
        // After the engine: commands under way still get their answers.
        stopCommands?.();
        stopCommands = undefined;
      }
    },
  };
}

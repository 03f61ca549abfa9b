// The main-thread side: a thin comlink client over the worker host, with a synchronous cache of
// projection states that the worker keeps current.
import {
  ChronicleError,
  type ChronicleErrorJSON,
  type Foldable,
  type Projection,
  type RejectedNotice,
  type StateOf,
  type SyncStatus,
  type UndoState,
} from "@chronicle/core";
import { proxy, type Remote, releaseProxy, transfer, wrap } from "comlink";
import { installErrorTransfer } from "../shared/error-transfer.ts";
import type { HostApi, HostStatus, OpenInfo, RebuildProgress } from "../shared/host-api.ts";
import type { Chronicle, ChronicleUndo, CreateChronicleOptions } from "./chronicle-types.ts";
import { createCommandChannel } from "./command-channel.ts";
import { defaultStartTimeoutMs, openHost } from "./open-host.ts";
import { createProcessesApi } from "./processes.ts";
import { ProjectionCache } from "./projection-cache.ts";

/**
 * Connects the main thread to a Chronicle worker. Rejects with a ChronicleError (and terminates
 * the worker, unless `terminate: false`) when the worker fails to load, does not call
 * `hostChronicle` within `startTimeoutMs` (code `internal` for both), or cannot open the
 * database (the worker's error, with its code).
 *
 * @example
 * const chronicle = await createChronicle({
 *   worker: new Worker(new URL("./chronicle.worker.ts", import.meta.url), { type: "module" }),
 * });
 * await chronicle.execute("board:1", board, { type: "addCard", title: "Write docs" });
 * const stop = chronicle.subscribe(boardView, "board:1", (state) => render(state));
 */
export async function createChronicle(options: CreateChronicleOptions): Promise<Chronicle> {
  installErrorTransfer();
  const remote: Remote<HostApi> = wrap<HostApi>(options.worker);
  const cache = new ProjectionCache();
  const watches = new Map<string, Promise<number>>();
  let leader = false;
  let closed = false;
  const syncStatuses = new Map<string, SyncStatus>();
  const syncListeners = new Map<string, Set<(status: SyncStatus) => void>>();
  const rejectedListeners = new Set<(notice: RejectedNotice) => void>();
  const rebuildListeners = new Set<(progress: RebuildProgress) => void>();
  let undoState: UndoState = { canUndo: false, canRedo: false };
  let undoReported = false;
  const undoListeners = new Set<(state: UndoState) => void>();
  const onStatus = (status: HostStatus) => {
    if (status.type === "undo") {
      undoReported = true;
      undoState = status.state;
      for (const listener of [...undoListeners]) listener(undoState);
    }
    if (status.type === "leader") leader = status.leader;
    if (status.type === "sync-status") {
      syncStatuses.set(status.stream, status.status);
      for (const listener of [...(syncListeners.get(status.stream) ?? [])]) listener(status.status);
    }
    if (status.type === "sync-rejected") {
      for (const listener of [...rejectedListeners]) listener(status.notice);
    }
    if (status.type === "rebuild") {
      for (const listener of [...rebuildListeners]) listener(status.progress);
    }
    options.onStatus?.(status);
  };
  const persisted = options.persist === false ? false : await requestPersistence();
  // While a command's transaction commits, its records take the cached states' unchanged parts:
  // once committed, they are shown without that walk.
  const commands = createCommandChannel((early) => {
    for (const record of early.projections) cache.share(record);
  });
  let info: OpenInfo;
  try {
    const commandPort = commands.remotePort;
    info = await openHost(
      remote,
      transfer({ name: options.name, actor: options.actor, commands: commandPort }, [commandPort]),
      proxy(onStatus),
      {
        endpoint: options.worker,
        startTimeoutMs: options.startTimeoutMs ?? defaultStartTimeoutMs,
      },
    );
  } catch (error) {
    commands.close();
    // Nothing to hand back: do not leave a worker holding the database behind.
    remote[releaseProxy]();
    if (options.terminate !== false && "terminate" in options.worker) options.worker.terminate();
    throw error;
  }
  leader ||= info.leader;
  const keyOf = (projection: Projection<any, any>, stream: string | undefined) => {
    if (stream !== undefined) return `${projection.name}/${stream}`;
    if (projection.prefix === undefined) {
      throw new Error(
        `projection "${projection.name}" is over one stream: pass the stream (only a projection declared with a prefix is read without one)`,
      );
    }
    return `${projection.name}/${projection.prefix}*`;
  };
  const assertOpen = () => {
    if (closed) throw new ChronicleError("internal", "this Chronicle is closed");
  };
  // The worker's first undo report may have crossed `open`'s answer (statuses travel on their
  // own channel): ask once, and keep the answer only if no report came meanwhile.
  void remote.undoState().then(
    (state) => {
      if (!undoReported) onStatus({ type: "undo", state });
    },
    () => {},
  );
  const undoManager: ChronicleUndo = {
    get state() {
      return undoState;
    },
    subscribe(listener) {
      undoListeners.add(listener);
      listener(undoState);
      return () => undoListeners.delete(listener);
    },
    undo: () => {
      assertOpen();
      return remote.undo();
    },
    redo: () => {
      assertOpen();
      return remote.redo();
    },
    async group<T>(label: string, work: () => Promise<T>): Promise<T> {
      assertOpen();
      let result: T | undefined;
      await remote.undoGroup(
        label,
        proxy(async () => {
          result = await work();
        }),
      );
      return result as T;
    },
    clear: () => {
      assertOpen();
      return remote.clearUndo();
    },
  };

  const processes = createProcessesApi(remote, info.name, assertOpen);

  return {
    deviceId: info.deviceId,
    persisted,
    isLeader: () => leader,
    async execute(stream, decider, command, executeOptions) {
      assertOpen();
      const name = typeof decider === "string" ? decider : decider.name;
      const result = await commands.execute(stream, name, command, executeOptions);
      for (const record of result.projections) cache.offer(record);
      return result;
    },
    append: (stream, events, appendOptions) => {
      assertOpen();
      return remote.append(stream, events, appendOptions);
    },
    readStream: (stream, readOptions) => {
      assertOpen();
      return remote.readStream(stream, readOptions);
    },
    read(projection, stream) {
      return cache.get(keyOf(projection, stream))?.state as StateOf<typeof projection> | undefined;
    },
    async load(projection, stream) {
      assertOpen();
      const record = await remote.read(projection.name, stream);
      cache.offer(record);
      return cache.get(record.key)!.state as StateOf<typeof projection>;
    },
    subscribe(projection, stream, listener) {
      assertOpen();
      const key = keyOf(projection, stream);
      const typed = listener as (state: unknown) => void;
      if (cache.listen(key, typed) === 1 && !watches.has(key)) {
        watches.set(
          key,
          remote.watch(
            projection.name,
            stream,
            proxy((record) => cache.offer(record)),
            proxy((error: ChronicleErrorJSON) =>
              onStatus({ type: "projection-error", projection: projection.name, error }),
            ),
          ),
        );
      }
      const known = cache.get(key);
      if (known) typed(known.state);
      return () => {
        if (cache.unlisten(key, typed) > 0) return;
        const watch = watches.get(key);
        watches.delete(key);
        void watch?.then((id) => (closed ? undefined : remote.unwatch(id))).catch(() => {});
      };
    },
    onRebuild(listener) {
      rebuildListeners.add(listener);
      return () => rebuildListeners.delete(listener);
    },
    async rebuild(projection, stream) {
      assertOpen();
      keyOf(projection, stream);
      const record = await remote.rebuild(projection.name, stream);
      cache.offer(record, true);
      return cache.get(record.key)!.state as StateOf<typeof projection>;
    },
    sync: info.sync,
    syncStatus: (stream) => syncStatuses.get(stream),
    onSyncStatus(stream, listener) {
      assertOpen();
      const listeners = syncListeners.get(stream) ?? new Set();
      syncListeners.set(stream, listeners);
      listeners.add(listener);
      const known = syncStatuses.get(stream);
      if (known) listener(known);
      else {
        void remote.syncStatus(stream).then(
          (status) => {
            if (status && !syncStatuses.has(stream) && listeners.has(listener)) {
              syncStatuses.set(stream, status);
              listener(status);
            }
          },
          () => {},
        );
      }
      return () => listeners.delete(listener);
    },
    onRejected(listener) {
      rejectedListeners.add(listener);
      return () => rejectedListeners.delete(listener);
    },
    async stateAt(foldable, stream, at) {
      assertOpen();
      return (await remote.stateAt(refOf(foldable), stream, at)).state as never;
    },
    async viewAt(stream, at) {
      assertOpen();
      const position = await remote.resolvePoint(stream, at);
      const states = new Map<string, Promise<unknown>>();
      return {
        stream,
        position,
        read<State>(foldable: Foldable<State>): Promise<State> {
          const key = `${foldable.kind}/${foldable.name}`;
          let state = states.get(key);
          if (!state) {
            state = remote.stateAt(refOf(foldable), stream, { position }).then((r) => r.state);
            states.set(key, state);
          }
          return state.then((value) => structuredClone(value) as State);
        },
        events: (options = {}) =>
          remote.readStream(stream, {
            from: options.from ?? 1,
            toPosition: position,
            ...(options.limit === undefined ? {} : { limit: options.limit }),
          }),
      };
    },
    history: (stream, historyOptions) => {
      assertOpen();
      return remote.history(stream, historyOptions);
    },
    diff: (foldable, stream, from, to) => {
      assertOpen();
      return remote.diff(refOf(foldable), stream, from, to);
    },
    undoManager,
    processes,
    diagnostics: () => {
      assertOpen();
      return remote.diagnostics();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        // Commands already sent get their answers before the worker lets go of the database.
        await commands.settled();
        cache.clear();
        processes.close();
        await remote.close();
      } finally {
        commands.close();
        remote[releaseProxy]();
        if (options.terminate !== false && "terminate" in options.worker) {
          options.worker.terminate();
        }
      }
    },
  };
}

const refOf = (foldable: Foldable<unknown>) => ({ kind: foldable.kind, name: foldable.name });

async function requestPersistence(): Promise<boolean> {
  // Without it, Chromium may evict the origin's IndexedDB under storage pressure. Browsers grant
  // or refuse silently (Chromium by engagement heuristics); refusal is not an error.
  try {
    const storage = globalThis.navigator?.storage;
    if (!storage?.persist) return false;
    return (await storage.persisted?.()) || (await storage.persist());
  } catch {
    return false;
  }
}

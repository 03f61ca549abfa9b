// internal: not exported. The main-thread side of the commands port (see CommandRequest in
// host-api.ts): `execute` as one postMessage each way, without comlink's per-call bookkeeping.
// A result that arrives `early` is held until its `committed` notice: nothing is shown before
// the transaction is durable.
import { ChronicleError, type ExecuteOptions } from "@chronicle/core";
import type { CommandReply, CommandRequest, ExecuteResult } from "../shared/host-api.ts";

interface Waiting {
  resolve: (result: ExecuteResult) => void;
  reject: (error: unknown) => void;
  early?: ExecuteResult;
}

export interface CommandChannel {
  /** The port to transfer to the worker (with `open`). */
  readonly remotePort: MessagePort;
  execute(
    stream: string,
    decider: string,
    command: unknown,
    options?: ExecuteOptions,
  ): Promise<ExecuteResult>;
  /** Resolves once every command sent so far has its answer (successful or not). */
  settled(): Promise<void>;
  /** Fails the commands still waiting for an answer, and closes the port. */
  close(): void;
}

/**
 * `onEarly`: called with a result that arrived before its commit, while IndexedDB commits (the
 * main thread may prepare what showing it needs; it must not show it yet).
 */
export function createCommandChannel(onEarly?: (result: ExecuteResult) => void): CommandChannel {
  const { port1: port, port2: remotePort } = new MessageChannel();
  const waiting = new Map<number, Waiting>();
  let nextId = 0;
  let onSettled: (() => void) | undefined;
  const answered = (id: number) => {
    waiting.delete(id);
    if (waiting.size === 0) onSettled?.();
  };
  port.onmessage = ({ data: reply }: MessageEvent<CommandReply>) => {
    const entry = waiting.get(reply.id);
    if (!entry) return;
    switch (reply.kind) {
      case "early":
        entry.early = reply.result;
        onEarly?.(reply.result);
        return;
      case "committed":
        if (entry.early) entry.resolve(entry.early);
        else entry.reject(new ChronicleError("internal", "a command was confirmed unseen"));
        break;
      case "result":
        entry.resolve(reply.result);
        break;
      case "error": {
        const error = ChronicleError.fromJSON(reply.error);
        if (reply.stack) error.stack = reply.stack;
        entry.reject(error);
        break;
      }
    }
    answered(reply.id);
  };
  port.start();
  return {
    remotePort,
    execute(stream, decider, command, options) {
      const id = ++nextId;
      const request: CommandRequest = { id, stream, decider, command, options };
      return new Promise((resolve, reject) => {
        try {
          port.postMessage(request);
        } catch (error) {
          throw new ChronicleError(
            "validation",
            `the command for ${stream} cannot be sent to the worker (it is not cloneable)`,
            { cause: error, details: { stream, decider } },
          );
        }
        waiting.set(id, { resolve, reject });
      });
    },
    settled() {
      if (waiting.size === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const previous = onSettled;
        onSettled = () => {
          onSettled = undefined;
          previous?.();
          resolve();
        };
      });
    },
    close() {
      const error = new ChronicleError("internal", "this Chronicle is closed");
      for (const entry of waiting.values()) entry.reject(error);
      waiting.clear();
      onSettled?.();
      port.onmessage = null;
      port.close();
    },
  };
}

import type { ExecuteResult } from "@chronicle/browser";
import {
  type ChronicleErrorJSON,
  type CommandOf,
  type Decider,
  type ExecuteOptions,
  toChronicleError,
} from "@chronicle/core";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSource } from "./context.tsx";
import type { CommandSource } from "./sources.ts";

/** What {@link useCommand} returns: the decider's `execute`, and its progress and last refusal. */
export interface CommandState<Command, Result = ExecuteResult> {
  /**
   * Runs `command` on `stream`; resolves with the result, or `undefined` when it was refused
   * (the refusal is then in `error`). `options`: `{ strict, label, undoable, context }`.
   */
  execute: (
    stream: string,
    command: Command,
    options?: ExecuteOptions,
  ) => Promise<Result | undefined>;
  /** True while a command of this hook runs. */
  running: boolean;
  /** The last refusal (a ChronicleError as JSON: `code`, `message`), cleared on the next run. */
  error: ChronicleErrorJSON | undefined;
}

/**
 * Runs commands of one decider, tracking whether one is running and the last refusal, so a
 * form can show "a card needs a title" without try/catch. The command type is the decider's:
 * anything else is a compile error. `source` defaults to the provider's Chronicle.
 *
 * @example
 * const addCard = useCommand(board);
 * <button
 *   disabled={addCard.running}
 *   onClick={() => addCard.execute("board:1", { type: "addCard", id, title }, { label: "Add card" })}
 * >
 *   Add
 * </button>;
 * {addCard.error && <p role="alert">{addCard.error.message}</p>}
 */
export function useCommand<D extends Decider<any, any, any>>(
  decider: D,
): CommandState<CommandOf<D>, ExecuteResult>;
export function useCommand<D extends Decider<any, any, any>, Result>(
  decider: D,
  source: CommandSource<Result>,
): CommandState<CommandOf<D>, Result>;
export function useCommand(
  decider: Decider<any, any, any>,
  source?: CommandSource<unknown>,
): CommandState<unknown, unknown> {
  const chronicle = useSource("useCommand", source, (provided): CommandSource<unknown> => provided);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<ChronicleErrorJSON | undefined>(undefined);
  const mounted = useMounted();
  const execute = useCallback(
    async (stream: string, command: unknown, options?: ExecuteOptions) => {
      setRunning(true);
      setError(undefined);
      try {
        return await chronicle.execute(stream, decider, command, options);
      } catch (thrown) {
        if (mounted.current) setError(toChronicleError(thrown).toJSON());
        return undefined;
      } finally {
        if (mounted.current) setRunning(false);
      }
    },
    [chronicle, decider, mounted],
  );
  return useMemo(() => ({ execute, running, error }), [execute, running, error]);
}

function useMounted() {
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return mounted;
}

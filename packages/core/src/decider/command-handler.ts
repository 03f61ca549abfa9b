import { isChronicleError } from "../errors.ts";
import {
  type ConfirmedEvent,
  createEnvelope,
  type EventContext,
  type RecordedEvent,
} from "../events/envelope.ts";
import { foldEvents } from "../fold/foldable.ts";
import { loadState, snapshotIfDue } from "../fold/load-state.ts";
import { uuidv7 } from "../ids.ts";
import type { SnapshotStore } from "../snapshot/snapshot-store.ts";
import type { EventStore } from "../store/types.ts";
import type { Decider } from "./define-decider.ts";

/** Where a command comes from; its events inherit correlation and causation from it. */
export interface CommandContext extends EventContext {
  /** The command's id: the events' `causationId` (and `correlationId` when none is given). @default a new UUIDv7 */
  commandId?: string;
}

/** How {@link createCommandHandler} loads, retries and fills in context. */
export interface CommandHandlerOptions {
  /** Load from snapshots and save them per the decider's `snapshotEvery`. */
  snapshots?: SnapshotStore;
  /** How many times to reload and decide again after a `concurrency` error. @default 3 */
  maxRetries?: number;
  /** Defaults for every command's context (actor, device, clock). */
  context?: CommandContext;
}

/** What a handled command did. */
export interface CommandResult<State> {
  /** The events the command appended, with their positions (empty when it decided nothing). */
  events: ConfirmedEvent[];
  /** The decider's state after them. */
  state: State;
  /** The stream's head after the command. */
  head: number;
}

/**
 * Runs one command against a stream (see {@link createCommandHandler}); `context` is merged over
 * the handler's default context.
 */
export type CommandHandler<Command, State> = (
  stream: string,
  command: Command,
  context?: CommandContext,
) => Promise<CommandResult<State>>;

/**
 * Runs `decide` and wraps what it returns in envelopes: validated against their schemas, with
 * fresh ids, the command's correlation (its own id when it starts a workflow) and the command
 * as their cause. Stores that run the whole command in their own transaction use it directly.
 *
 * @example
 * const events = decideEvents(board, "board:1", { type: "addCard", title: "Hi" }, state, { actor: "alice", device: "d1" });
 */
export function decideEvents<Command, State>(
  decider: Decider<Command, State>,
  stream: string,
  command: Command,
  state: State,
  context: CommandContext = {},
): RecordedEvent[] {
  const commandId = context.commandId ?? uuidv7();
  const eventContext: EventContext = {
    ...context,
    correlationId: context.correlationId ?? commandId,
    causationId: context.causationId ?? commandId,
  };
  return decider
    .decide(command, state)
    .map((event) => createEnvelope(stream, decider.registry.validate(event), eventContext));
}

/**
 * Handles commands with a decider: load state (snapshot + tail), decide, validate the events,
 * append them expecting the version that was loaded, and on `concurrency` start again, at most
 * `maxRetries` more times. Errors thrown by `decide` reach the caller unchanged.
 *
 * @example
 * const handle = createCommandHandler(store, boardDecider, { context: { actor: "alice", device: "laptop" } });
 * const { events, state } = await handle("board:1", { type: "addCard", title: "Write docs" });
 */
export function createCommandHandler<Command, State>(
  store: EventStore,
  decider: Decider<Command, State>,
  options: CommandHandlerOptions = {},
): CommandHandler<Command, State> {
  const maxRetries = options.maxRetries ?? 3;
  return async (stream, command, context = {}) => {
    const merged: CommandContext = { ...options.context, ...context };
    const commandId = merged.commandId ?? uuidv7();
    for (let attempt = 0; ; attempt++) {
      const loaded = await loadState(store, decider, stream, { snapshots: options.snapshots });
      const envelopes = decideEvents(decider, stream, command, loaded.state, {
        ...merged,
        commandId,
      });
      if (envelopes.length === 0) return { events: [], state: loaded.state, head: loaded.position };
      try {
        const { results, head } = await store.append(stream, envelopes, {
          expectedVersion: loaded.position === 0 ? "no-stream" : loaded.position,
        });
        const events = envelopes.map((event, index) => ({
          ...event,
          position: results[index]!.position,
          recordedAt: results[index]!.recordedAt,
        }));
        const state = foldEvents(decider, loaded.state, events);
        await snapshotIfDue(
          options.snapshots,
          decider,
          stream,
          state,
          head,
          loaded.snapshotPosition,
          merged.now,
          // The decided events are of the decider's own types: nothing new is skipped.
          loaded.skipped,
        );
        return { events, state, head };
      } catch (error) {
        if (!isChronicleError(error, "concurrency") || attempt >= maxRetries) throw error;
      }
    }
  };
}

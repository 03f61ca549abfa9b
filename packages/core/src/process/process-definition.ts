import type { CommandOf, Decider } from "../decider/define-decider.ts";
import type { AnyEventDefinition, EventOf } from "../events/define-event.ts";
import type { RecordedEvent } from "../events/envelope.ts";
import { createEventRegistry, type EventRegistry } from "../events/registry.ts";

/** A command a process step sends to a stream, delivered by the runner from the instance's outbox. */
export interface ProcessCommand {
  /** The decider that decides it; the runner must know it by name (`deciders` option). */
  decider: Decider;
  /** The target stream. */
  stream: string;
  /** The command (JSON: it is stored in the outbox). */
  command: unknown;
  /** What undoes it when a later command of the instance is refused (see {@link send}). */
  compensate?: CompensatingCommand;
}

/** A command that undoes a delivered one: no compensation of its own. */
export type CompensatingCommand = Omit<ProcessCommand, "compensate">;

/**
 * A typed command for a process step: the command must be the decider's command type.
 *
 * @example
 * send(stock, `stock:${sku}`, { type: "reserve", orderId, quantity }, {
 *   compensate: send(stock, `stock:${sku}`, { type: "release", orderId }),
 * });
 */
export function send<D extends Decider>(
  decider: D,
  stream: string,
  command: CommandOf<D>,
  options: { compensate?: CompensatingCommand } = {},
): ProcessCommand {
  const out: ProcessCommand = { decider, stream, command };
  if (options.compensate) {
    out.compensate = {
      decider: options.compensate.decider,
      stream: options.compensate.stream,
      command: options.compensate.command,
    };
  }
  return out;
}

/** A timeout to schedule: delivered later to the process's `timeouts[name]` handler. */
export interface ScheduleTimeout<Name extends string = string> {
  /** Which handler gets it; scheduling a name again replaces the pending one. */
  name: Name;
  /** Milliseconds from now (the runner's clock when the step is handled). */
  after?: number;
  /** An absolute time (ms since the epoch); wins over `after`. */
  at?: number;
  /** JSON handed to the handler. @default null */
  data?: unknown;
}

/** What a process handler returns: the next state and what to do. */
export interface ProcessStep<State, TimeoutName extends string = string> {
  /** The instance's next state (JSON). */
  state: State;
  /** Commands to deliver, in order, from the outbox (at least once, effect exactly once). */
  commands?: readonly ProcessCommand[];
  /**
   * Compensations of this step itself (not of a command): run, in reverse order with the
   * commands' ones, if a later command is refused. E.g. cancel the order that started it.
   */
  compensate?: readonly CompensatingCommand[];
  /** Timeouts to schedule. */
  schedule?: readonly ScheduleTimeout<TimeoutName>[];
  /** Names of pending timeouts to cancel. */
  cancel?: readonly TimeoutName[];
  /** The instance is finished: its deadlines are dropped and later events are ignored. */
  done?: boolean;
}

/** What a handler knows besides the state and the input. */
export interface StepContext {
  /** The instance id (what `correlate` returned). */
  instance: string;
  /** The step number this input gets (1 for the instance's first). */
  step: number;
  /** The correlation id of the instance's first event: its commands' events carry it. */
  correlationId: string;
}

/** A fired timeout, as its handler sees it. */
export interface Timeout<Name extends string = string> {
  /** The name it was scheduled with. */
  name: Name;
  /** The data it was scheduled with (`null` when none). */
  data: unknown;
  /** When it was due. */
  dueAt: number;
}

/** The event handlers of a process, by event type; each gets the event of that type. */
export type ProcessHandlers<
  State,
  Defs extends readonly AnyEventDefinition[],
  TimeoutName extends string,
> = {
  [K in EventOf<Defs>["type"]]?: (
    state: State,
    event: Extract<EventOf<Defs>, { type: K }>,
    context: StepContext,
  ) => ProcessStep<State, TimeoutName>;
};

/** What {@link defineProcess} takes. */
export interface ProcessSpec<
  State,
  Defs extends readonly AnyEventDefinition[],
  TimeoutName extends string,
> {
  /** Names the process: its instances, checkpoint and event ids are keyed by it. Never rename one. */
  name: string;
  /** Recorded on each instance; bump it when the handlers change meaning. @default 1 */
  version?: number;
  /** The event types it listens to, from any stream. */
  events: Defs;
  /** Names the instance an event belongs to (an order id), or `undefined` to ignore the event. */
  correlate: (event: EventOf<Defs>) => string | undefined;
  /** The state of a new instance (JSON); copied, never mutated. */
  initialState: State;
  /** Pure handlers by event type. An event with no handler is recorded and changes nothing. */
  on: ProcessHandlers<State, Defs, TimeoutName>;
  /** Pure handlers of fired timeouts, by name. */
  timeouts?: {
    [N in TimeoutName]: (
      state: State,
      timeout: Timeout<N>,
      context: StepContext,
    ) => ProcessStep<State, TimeoutName>;
  };
}

/** A declared process (see {@link defineProcess}). */
export interface Process<
  State = any,
  Defs extends readonly AnyEventDefinition[] = readonly AnyEventDefinition[],
  TimeoutName extends string = string,
> {
  /** Tells processes from deciders and projections. */
  readonly kind: "process";
  /** The process name. */
  readonly name: string;
  /** The process version (recorded on instances). */
  readonly version: number;
  /** The event definitions it listens to. */
  readonly events: Defs;
  /** Knows the listened types and upcasts stored events. */
  readonly registry: EventRegistry;
  /** The state of a new instance. */
  readonly initialState: State;
  /** The spec's `correlate`, on an event already upcast. */
  correlate(event: RecordedEvent): string | undefined;
  /** Runs the handler of an (upcast) event; `undefined` when the type has none. */
  onEvent(
    state: State,
    event: RecordedEvent,
    context: StepContext,
  ): ProcessStep<State, TimeoutName> | undefined;
  /** Runs the handler of a timeout; throws when the name has none. */
  onTimeout(state: State, timeout: Timeout, context: StepContext): ProcessStep<State, TimeoutName>;
}

/**
 * Declares a process (a saga / process manager): a long-running workflow, one instance per
 * correlation id, that listens to events of any stream and answers each with its next state,
 * commands to other streams (with their compensations), timeouts, and whether it is done.
 * Handlers are pure; a runner (`createProcessRunner`) makes them durable.
 *
 * @example
 * const fulfilment = defineProcess({
 *   name: "order-fulfilment",
 *   events: [orderPlaced, stockReserved],
 *   correlate: (event) => event.data.orderId,
 *   initialState: { step: "new" as "new" | "reserving" | "charging" },
 *   on: {
 *     "order.placed": (state, event) => ({
 *       state: { step: "reserving" },
 *       commands: [send(stock, "stock:main", { type: "reserve", orderId: event.data.orderId })],
 *       schedule: [{ name: "payment-due", after: 15 * 60_000 }],
 *     }),
 *     "stock.reserved": (state) => ({ state: { step: "charging" } }),
 *   },
 *   timeouts: { "payment-due": (state) => ({ state, done: true }) },
 * });
 */
export function defineProcess<
  State,
  const Defs extends readonly AnyEventDefinition[],
  TimeoutName extends string = never,
>(spec: ProcessSpec<State, Defs, TimeoutName>): Process<State, Defs, TimeoutName> {
  if (!spec.name) throw new Error("defineProcess: name is required");
  const registry = createEventRegistry(spec.events);
  const handlers = spec.on as Record<
    string,
    | ((
        state: State,
        event: RecordedEvent,
        context: StepContext,
      ) => ProcessStep<State, TimeoutName>)
    | undefined
  >;
  const timeouts = (spec.timeouts ?? {}) as Record<
    string,
    | ((state: State, timeout: Timeout, context: StepContext) => ProcessStep<State, TimeoutName>)
    | undefined
  >;
  for (const type of Object.keys(handlers)) {
    if (!registry.has(type)) {
      throw new Error(
        `defineProcess(${spec.name}): a handler for "${type}", which is not in events`,
      );
    }
  }
  return {
    kind: "process",
    name: spec.name,
    version: spec.version ?? 1,
    events: spec.events,
    registry,
    initialState: spec.initialState,
    correlate: (event) => spec.correlate(event as EventOf<Defs>),
    onEvent: (state, event, context) => handlers[event.type]?.(state, event, context),
    onTimeout(state, timeout, context) {
      const handler = timeouts[timeout.name];
      if (!handler) {
        throw new Error(`process "${spec.name}" has no handler for the timeout "${timeout.name}"`);
      }
      return handler(state, timeout, context);
    },
  };
}

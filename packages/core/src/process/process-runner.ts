// The process runner: makes pure process handlers durable, and runs reactions
// (docs/architecture.md, "Processes"). Invariants:
//
// P1. Handling inputs is ONE ProcessStore write per page of events (or per fired timeout): for
//     every instance the page touched, the new state, the inputs' ids among `handled`, the step,
//     the history lines, the new outbox entries and the deadlines; and the process's checkpoint
//     after the page. A crash leaves it all or none. Outboxes are delivered after that write
//     (P3); an instance handles an event only once the commands of its earlier inputs are
//     delivered (the page is written up to there first), as if the events came one by one.
// P2. An instance handles an input at most once: its id is in `handled` from that write on, and
//     the write is refused (`concurrency`) when another runner wrote the instance meanwhile.
//     Events are read in the store's global commit order; an event the checkpoint already passed
//     may come again (a crash before the checkpoint moved, a second host, `handle()`): it is
//     recognised by id and skipped.
// P3. Outbox commands are delivered at least once, in order, and their effect is exactly once:
//     the events of command `index` sent at `step` have the ids
//     processEventId(process, instance, step, index, n), the same on every delivery, and a
//     delivery that finds them in the target stream decides nothing again (deliver-command.ts).
//     An entry leaves the outbox only after its events are stored.
// P4. A refused command (a coded error from `decide`) starts compensation: the compensations of
//     the instance's delivered commands go to the outbox in reverse order, at a new step, with
//     everything still waiting dropped (recorded as skipped); the instance then ignores inputs
//     and ends `compensated` with the reason (or `failed` if a compensation was refused).
//     Events refused after their delivery (a sync node's rejection, `refused()`) do the same:
//     the refused command's own compensation is dropped (it took no effect), and an instance
//     already `done` compensates too. A refusal is recorded once per outbox entry.
// P5. Deadlines are persisted with absolute times; every drain fires the ones due by the clock,
//     including those that fell due while no runner was running. A fired timeout is an input
//     like an event (P1, P2) with the id `timeout:${name}:${scheduledAtStep}`.
// P6. A reaction's checkpoint moves past an event only after its handler succeeded or the event
//     was dead-lettered; a failure stores a retry time instead, and the reaction handles nothing
//     after that event until the retry (order is kept). Handlers run at least once per event.
// P7. One runner does one thing at a time: drains, `handle()` and dead-letter retries are queued.
// P8. The runner keeps what it needs per input in memory, so a handled event costs one store
//     write and a drain with nothing due reads no instance: (a) the instance records it read or
//     wrote (bounded, least recently used first out); a cached record is only ever a base for
//     a write, and a stale one (another runner wrote meanwhile) is refused by the write's
//     `expectedRevision` (P2), then read again from the store; (b) a deadline index (each active
//     instance's earliest deadline), built from the store at recovery (the first drain, and the
//     drain after any error) and updated on each of its own writes and reloads. Deadlines that
//     another runner scheduled are seen at this runner's next recovery or reload of that instance:
//     both hosts run one runner per store, and a second runner only delays such a timeout (never
//     fires one twice, P2). Why not a store query: the index costs no store round trip at all,
//     and no store (or Dexie schema version) had to change for it.
import type { Decider } from "../decider/define-decider.ts";
import { isChronicleError } from "../errors.ts";
import type { ConfirmedEvent, RecordedEvent } from "../events/envelope.ts";
import type { EventStore, Subscription } from "../store/types.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Reaction } from "./define-reaction.ts";
import { deliverCommand, describeError } from "./deliver-command.ts";
import { deterministicId } from "./deterministic-id.ts";
import type { Process, ProcessStep } from "./process-definition.ts";
import type {
  ConsumerRecord,
  DeadLetter,
  InstanceQuery,
  InstanceWrite,
  OutboxEntry,
  ProcessError,
  ProcessInstance,
  ProcessStore,
  ProcessWrite,
} from "./process-store.ts";

/** What {@link createProcessRunner} takes. */
export interface ProcessRunnerOptions {
  /** The event log the processes and reactions read and the commands go to. */
  store: EventStore;
  /** Where instances, checkpoints and dead letters are kept. */
  processStore: ProcessStore;
  /** Every decider a process sends commands to (found by name when an outbox is delivered). */
  deciders?: readonly Decider[];
  /** The processes to run. */
  processes?: readonly Process[];
  /** The reactions to run. */
  reactions?: readonly Reaction[];
  /** Time for deadlines and retries. @default systemClock */
  clock?: Clock;
  /** `meta.actor` of the events the commands write. @default "process-runner" */
  actor?: string;
  /** `meta.device` of the events the commands write. @default "process-runner" */
  device?: string;
  /** Events read per page. @default 100 */
  pageSize?: number;
  /** Hears errors of a started runner (it tries again after `retryMs`). @default console-free no-op */
  onError?: (error: unknown) => void;
  /** The wait before a started runner tries again after an error. @default 1000 */
  retryMs?: number;
  /**
   * How many instance records the runner keeps in memory as bases for its next writes (P8 in
   * process-runner.ts); more instances than this are read again from the store when they move.
   * @default 10000
   */
  cachedInstances?: number;
}

/** Which instances {@link ProcessRunner.list} returns. */
export type ListQuery = InstanceQuery;

/** Runs processes and reactions over an event store. */
export interface ProcessRunner {
  /**
   * Does everything there is to do now: handles new events, fires due deadlines, delivers
   * outboxes (also those a crash left), runs reactions and due retries; repeats until nothing
   * is left. Rejects when a store fails (nothing is lost: call it again).
   */
  drain(): Promise<void>;
  /** Hands one event to the processes directly (a host that receives events its own way). */
  handle(event: ConfirmedEvent): Promise<void>;
  /** Drains, then follows the store and the clock until {@link ProcessRunner.stop}. */
  start(): Promise<void>;
  /** Stops following; the work in progress finishes first. */
  stop(): Promise<void>;
  /** Process instances, with state, status, history, outbox and deadlines. */
  list(query?: ListQuery): Promise<ProcessInstance[]>;
  /** One instance, or `undefined`. */
  get(process: string, id: string): Promise<ProcessInstance | undefined>;
  /** Events reactions gave up on. */
  deadLetters(reaction?: string): Promise<DeadLetter[]>;
  /** Runs a dead letter's handler again once; true when it succeeded (it leaves the list). */
  retryDeadLetter(id: string): Promise<boolean>;
  /**
   * Events that the processes' commands wrote were refused after delivery (a sync node's
   * `RejectedNotice` lists them): each instance that sent one compensates (P4) with `reason`
   * and ends `compensated` (or `failed` when a compensation is refused in turn). Ids that no
   * instance sent are ignored, and a refusal already recorded changes nothing. Resolves with
   * the instances as they are after their compensations ran.
   *
   * @example
   * engine.onRejected((notice) =>
   *   runner.refused(notice.events.map((event) => event.id), notice),
   * );
   */
  refused(eventIds: readonly string[], reason: RefusalReason): Promise<ProcessInstance[]>;
}

/** Why events were refused after delivery (the `code` and `message` of a rejection). */
export interface RefusalReason {
  /** The error code (the node's, or the one `decide` threw on the new state). */
  code: string;
  /** For people. */
  message: string;
}

const maxWriteRetries = 10;

/**
 * Creates a runner for processes and reactions. Everything it knows survives in the two stores:
 * a new runner over the same stores carries on where a crashed one stopped.
 *
 * @example
 * const runner = createProcessRunner({
 *   store,
 *   processStore: new MemoryProcessStore(),
 *   deciders: [order, stock, payment],
 *   processes: [fulfilment],
 *   reactions: [receipts],
 * });
 * await runner.start(); // or `await runner.drain()` in a test, after appending events
 * const [instance] = await runner.list({ process: "order-fulfilment" });
 */
export function createProcessRunner(options: ProcessRunnerOptions): ProcessRunner {
  const { store, processStore } = options;
  const clock = options.clock ?? systemClock;
  const pageSize = options.pageSize ?? 100;
  const processes = options.processes ?? [];
  const reactions = options.reactions ?? [];
  const deciders = new Map<string, Decider>();
  for (const decider of options.deciders ?? []) {
    const known = deciders.get(decider.name);
    if (known && known !== decider) throw new Error(`two deciders are named "${decider.name}"`);
    deciders.set(decider.name, decider);
  }
  const processByName = new Map(processes.map((definition) => [definition.name, definition]));
  if (processByName.size !== processes.length) throw new Error("two processes share a name");

  // P7: one queue for all work.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  // ---- what the runner remembers (P8) ---------------------------------------------------------

  const cacheLimit = Math.max(0, options.cachedInstances ?? 10_000);
  /** Records read or written, least recently used first; `null`: the store has none. */
  const cache = new Map<string, ProcessInstance | null>();
  /** Per process: each active instance's earliest deadline. */
  const deadlineIndex = new Map<string, Map<string, number>>();

  const instanceKey = (process: string, id: string) => `${process}\u0000${id}`;

  const indexDeadlines = (record: ProcessInstance) => {
    let byId = deadlineIndex.get(record.process);
    const active = record.status === "running" || record.status === "waiting";
    if (!active || record.deadlines.length === 0) {
      byId?.delete(record.id);
      return;
    }
    if (!byId) {
      byId = new Map();
      deadlineIndex.set(record.process, byId);
    }
    byId.set(record.id, Math.min(...record.deadlines.map((deadline) => deadline.dueAt)));
  };

  const remember = (process: string, id: string, record: ProcessInstance | undefined) => {
    if (record) indexDeadlines(record);
    else deadlineIndex.get(process)?.delete(id);
    if (cacheLimit === 0) return;
    const key = instanceKey(process, id);
    cache.delete(key);
    cache.set(key, record ?? null);
    if (cache.size > cacheLimit) cache.delete(cache.keys().next().value!);
  };

  /** Forgets everything remembered (after an error: a write may have landed or not). */
  const forgetAll = () => {
    cache.clear();
    deadlineIndex.clear();
  };

  /** An instance, from memory when the runner has it, else from the store. */
  const load = async (process: string, id: string): Promise<ProcessInstance | undefined> => {
    const key = instanceKey(process, id);
    const cached = cache.get(key);
    if (cached !== undefined) {
      cache.delete(key);
      cache.set(key, cached);
      return cached ?? undefined;
    }
    return reload(process, id);
  };

  /** An instance read from the store, remembered. */
  const reload = async (process: string, id: string): Promise<ProcessInstance | undefined> => {
    const record = await processStore.instance(process, id);
    remember(process, id, record);
    return record;
  };

  /** The ids of a process's instances with a deadline due now, by id. */
  const dueInstances = (process: string): string[] => {
    const now = clock.now();
    const due: string[] = [];
    for (const [id, dueAt] of deadlineIndex.get(process) ?? []) if (dueAt <= now) due.push(id);
    return due.sort(compareIds);
  };

  // ---- processes -----------------------------------------------------------------------------

  const newInstance = (definition: Process, id: string, event: RecordedEvent): ProcessInstance => {
    const now = clock.now();
    return {
      process: definition.name,
      id,
      version: definition.version,
      status: "waiting",
      state: structuredClone(definition.initialState),
      correlationId: event.meta.correlationId,
      step: 0,
      revision: 0,
      handled: [],
      history: [],
      outbox: [],
      deadlines: [],
      compensations: [],
      createdAt: now,
      updatedAt: now,
    };
  };

  const isClosed = (instance: ProcessInstance) =>
    instance.status === "done" ||
    instance.status === "compensated" ||
    instance.status === "failed" ||
    instance.compensation !== undefined;

  /** The instance after one handled input (P1): a new record, the old one untouched. */
  const applyStep = (
    base: ProcessInstance,
    input:
      | { kind: "event"; event: RecordedEvent }
      | { kind: "timeout"; name: string; dueAt: number; step: number },
    run: (state: unknown, step: number) => ProcessStep<unknown> | undefined,
  ): ProcessInstance => {
    const now = clock.now();
    const step = base.step + 1;
    const inputId = input.kind === "event" ? input.event.id : `timeout:${input.name}:${input.step}`;
    const next: ProcessInstance = {
      ...structuredClone(base),
      step,
      revision: base.revision + 1,
      updatedAt: now,
    };
    next.handled.push(inputId);
    if (input.kind === "timeout") {
      next.deadlines = next.deadlines.filter(
        (deadline) => !(deadline.name === input.name && deadline.step === input.step),
      );
    }
    let result: ProcessStep<unknown> | undefined;
    try {
      result = run(structuredClone(base.state), step);
    } catch (error) {
      const described = describeError(error);
      next.status = "failed";
      next.error = described;
      next.deadlines = [];
      next.history.push({ kind: "failed", step, at: now, error: described });
      return next;
    }
    const commands = (result?.commands ?? []).map((command, index): OutboxEntry => {
      knownDecider(command.decider.name, command.decider);
      const entry: OutboxEntry = {
        id: `${step}.${index}`,
        step,
        index,
        kind: "command",
        decider: command.decider.name,
        stream: command.stream,
        command: structuredClone(command.command),
        causationId: inputId,
      };
      if (command.compensate) {
        knownDecider(command.compensate.decider.name, command.compensate.decider);
        entry.compensate = {
          decider: command.compensate.decider.name,
          stream: command.compensate.stream,
          command: structuredClone(command.compensate.command),
        };
      }
      return entry;
    });
    if (result) next.state = structuredClone(result.state);
    for (const compensation of result?.compensate ?? []) {
      knownDecider(compensation.decider.name, compensation.decider);
      next.compensations.push({
        outboxId: `${step}`,
        decider: compensation.decider.name,
        stream: compensation.stream,
        command: structuredClone(compensation.command),
      });
    }
    next.outbox.push(...commands);
    const cancelled = new Set<string>(result?.cancel ?? []);
    for (const scheduled of result?.schedule ?? []) cancelled.add(scheduled.name);
    next.deadlines = next.deadlines.filter((deadline) => !cancelled.has(deadline.name));
    for (const scheduled of result?.schedule ?? []) {
      next.deadlines.push({
        name: scheduled.name,
        dueAt: scheduled.at ?? now + (scheduled.after ?? 0),
        data: structuredClone(scheduled.data ?? null),
        step,
      });
    }
    const ids = commands.map((command) => command.id);
    next.history.push(
      input.kind === "event"
        ? {
            kind: "event",
            step,
            at: now,
            eventId: input.event.id,
            type: input.event.type,
            stream: input.event.stream,
            commands: ids,
          }
        : { kind: "timeout", step, at: now, name: input.name, dueAt: input.dueAt, commands: ids },
    );
    if (result?.done) {
      next.status = "done";
      next.deadlines = [];
    } else {
      next.status = next.outbox.length > 0 ? "running" : "waiting";
    }
    return next;
  };

  const knownDecider = (name: string, decider?: Decider): Decider => {
    const known = deciders.get(name);
    if (!known || (decider !== undefined && known !== decider)) {
      throw new Error(
        `the process runner does not know the decider "${name}": pass it in the deciders option`,
      );
    }
    return known;
  };

  /** Handles one event for one process (P1, P2), then delivers the instance's outbox. */
  const handleEvent = async (
    definition: Process,
    event: ConfirmedEvent,
    checkpoint: number | undefined,
  ): Promise<void> => {
    const consumer: ConsumerRecord | undefined =
      checkpoint === undefined ? undefined : { name: `process:${definition.name}`, checkpoint };
    const skip = async () => {
      if (consumer) await processStore.commit({ consumer });
    };
    const current = definition.registry.upcast(event);
    if (current === undefined) return skip();
    const id = definition.correlate(current);
    if (id === undefined) return skip();
    for (let attempt = 0; ; attempt++) {
      const stored = await load(definition.name, id);
      if (stored && (isClosed(stored) || stored.handled.includes(event.id))) return skip();
      const base = stored ?? newInstance(definition, id, current);
      const next = applyStep(base, { kind: "event", event: current }, (state, step) =>
        definition.onEvent(state, current, {
          instance: id,
          step,
          correlationId: base.correlationId,
        }),
      );
      const write: ProcessWrite = { instance: { record: next, expectedRevision: base.revision } };
      if (consumer) write.consumer = consumer;
      if (await commitOrReload(write, attempt)) return deliverOutbox(next);
    }
  };

  /**
   * True when written; false after a `concurrency` refusal (the instance is forgotten: the next
   * `load` reads it from the store, and the caller tries again).
   */
  const commitOrReload = async (write: ProcessWrite, attempt: number): Promise<boolean> => {
    try {
      await processStore.commit(write);
    } catch (error) {
      if (write.instance) {
        // Whether it landed is unknown: the next base comes from the store.
        const { record } = write.instance;
        cache.delete(instanceKey(record.process, record.id));
      }
      if (isChronicleError(error, "concurrency") && attempt < maxWriteRetries) return false;
      throw error;
    }
    if (write.instance) {
      const { record } = write.instance;
      remember(record.process, record.id, record);
    }
    return true;
  };

  /** Delivers an instance's outbox in order (P3), compensating on a refusal (P4). */
  const deliverOutbox = async (start: ProcessInstance): Promise<void> => {
    let instance = start;
    let attempt = 0;
    while (instance.outbox.length > 0) {
      const entry = instance.outbox[0]!;
      const decider = knownDecider(entry.decider);
      const outcome = await deliverCommand(
        store,
        decider,
        entry,
        { process: instance.process, instance: instance.id },
        {
          actor: options.actor ?? "process-runner",
          device: options.device ?? "process-runner",
          correlationId: instance.correlationId,
          causationId: entry.causationId,
          now: clock.now,
        },
      );
      const next = afterDelivery(instance, entry, outcome);
      if (
        await commitOrReload(
          { instance: { record: next, expectedRevision: instance.revision } },
          attempt++,
        )
      ) {
        instance = next;
        attempt = 0;
      } else {
        const reloaded = await load(instance.process, instance.id);
        if (!reloaded) return;
        instance = reloaded;
      }
    }
  };

  const afterDelivery = (
    instance: ProcessInstance,
    entry: OutboxEntry,
    outcome: Awaited<ReturnType<typeof deliverCommand>>,
  ): ProcessInstance => {
    const now = clock.now();
    const next: ProcessInstance = {
      ...structuredClone(instance),
      revision: instance.revision + 1,
      updatedAt: now,
    };
    next.outbox.shift();
    if (outcome.kind === "delivered") {
      next.history.push({
        kind: "delivered",
        step: entry.step,
        at: now,
        outboxId: entry.id,
        stream: entry.stream,
        eventIds: outcome.eventIds,
      });
      if (entry.kind === "command" && entry.compensate) {
        next.compensations.push({ outboxId: entry.id, ...entry.compensate });
      }
    } else {
      next.history.push({
        kind: "refused",
        step: entry.step,
        at: now,
        outboxId: entry.id,
        stream: entry.stream,
        error: outcome.error,
      });
      if (entry.kind === "compensation") {
        next.compensation?.failures.push(outcome.error);
      } else if (outcome.kind === "failed") {
        next.status = "failed";
        next.error = outcome.error;
        next.outbox = [];
        next.deadlines = [];
      } else {
        startCompensation(next, outcome.error, now);
      }
    }
    if (next.outbox.length === 0) settle(next);
    else if (next.status === "waiting") next.status = "running";
    return next;
  };

  const startCompensation = (next: ProcessInstance, reason: ProcessError, now: number) => {
    const step = next.step + 1;
    const skipped = next.outbox.map((entry) => entry.id);
    next.step = step;
    next.compensation = { reason, failures: [] };
    next.deadlines = [];
    next.outbox = [...next.compensations].reverse().map((compensation, index) => ({
      id: `${step}.${index}`,
      step,
      index,
      kind: "compensation",
      decider: compensation.decider,
      stream: compensation.stream,
      command: compensation.command,
      causationId: `compensate:${reason.outboxId ?? step}`,
    }));
    next.compensations = [];
    next.history.push({
      kind: "compensating",
      step,
      at: now,
      reason,
      skipped,
      commands: next.outbox.map((entry) => entry.id),
    });
    next.status = "running";
  };

  // With an empty outbox: where the instance rests.
  const settle = (next: ProcessInstance) => {
    if (next.compensation) {
      const [failure] = next.compensation.failures;
      if (failure) {
        next.status = "failed";
        next.error = failure;
      } else next.status = "compensated";
    } else if (next.status === "running") next.status = "waiting";
  };

  /** Fires the due deadlines of one instance (P5), earliest first. */
  const fireDeadlines = async (definition: Process, start: ProcessInstance): Promise<boolean> => {
    let fired = false;
    let instance: ProcessInstance | undefined = start;
    for (let attempt = 0; instance && !isClosed(instance); ) {
      const due = instance.deadlines
        .filter((deadline) => deadline.dueAt <= clock.now())
        .sort((a, b) => a.dueAt - b.dueAt || a.step - b.step)[0];
      if (!due) break;
      const base: ProcessInstance = instance;
      const next = applyStep(
        base,
        { kind: "timeout", name: due.name, dueAt: due.dueAt, step: due.step },
        (state, step) =>
          definition.onTimeout(
            state,
            { name: due.name, data: due.data, dueAt: due.dueAt },
            { instance: base.id, step, correlationId: base.correlationId },
          ),
      );
      if (
        await commitOrReload(
          { instance: { record: next, expectedRevision: base.revision } },
          attempt++,
        )
      ) {
        fired = true;
        attempt = 0;
        await deliverOutbox(next);
      }
      instance = await load(definition.name, base.id);
    }
    // The index follows the record (a timeout another runner fired leaves nothing due here).
    if (instance) indexDeadlines(instance);
    return fired;
  };

  /**
   * Handles one page of events for one process (P1): one write for every instance the page
   * touched and the checkpoint, then the outboxes. An instance whose commands from an earlier
   * event of the page are not delivered yet is written and delivered first (a flush), so every
   * event is handled with the outbox of the ones before it delivered, as one by one.
   */
  const pumpProcess = async (definition: Process): Promise<boolean> => {
    const name = `process:${definition.name}`;
    const record = await processStore.consumer(name);
    const page = await store.readAll({ after: record?.checkpoint ?? 0, limit: pageSize });
    /** The page's new records by instance, each with the revision it was made from. */
    let pending = new Map<string, InstanceWrite>();
    /** The events the pending write covers, and the checkpoint after them. */
    let covered: { event: ConfirmedEvent; checkpoint: number }[] = [];

    const flush = async () => {
      const last = covered.at(-1);
      if (!last) return;
      const writes = [...pending.values()];
      const events = covered;
      pending = new Map();
      covered = [];
      try {
        await processStore.commit({
          instances: writes,
          consumer: { name, checkpoint: last.checkpoint },
        });
      } catch (error) {
        // Whether it landed is unknown: the next bases come from the store.
        for (const { record } of writes) cache.delete(instanceKey(record.process, record.id));
        if (!isChronicleError(error, "concurrency")) throw error;
        // Another runner wrote one of them: the events again, one by one, each from the store.
        for (const entry of events) await handleEvent(definition, entry.event, entry.checkpoint);
        return;
      }
      for (const { record } of writes) remember(record.process, record.id, record);
      for (const { record } of writes) if (record.outbox.length > 0) await deliverOutbox(record);
    };

    for (const entry of page) {
      const current = definition.registry.upcast(entry.event);
      const id = current === undefined ? undefined : definition.correlate(current);
      if (current !== undefined && id !== undefined) {
        const key = instanceKey(definition.name, id);
        if (pending.get(key)?.record.outbox.length) await flush();
        const written = pending.get(key);
        const stored = written?.record ?? (await load(definition.name, id));
        if (!stored || !(isClosed(stored) || stored.handled.includes(entry.event.id))) {
          const base = stored ?? newInstance(definition, id, current);
          const next = applyStep(base, { kind: "event", event: current }, (state, step) =>
            definition.onEvent(state, current, {
              instance: id,
              step,
              correlationId: base.correlationId,
            }),
          );
          pending.set(key, {
            record: next,
            expectedRevision: written?.expectedRevision ?? base.revision,
          });
        }
      }
      covered.push({ event: entry.event, checkpoint: entry.checkpoint });
    }
    await flush();
    return page.length > 0;
  };

  // ---- reactions -----------------------------------------------------------------------------

  const reactionKey = (reaction: string, eventId: string) =>
    deterministicId(["chronicle.reaction", reaction, eventId]);

  /** Runs a reaction on the events after its checkpoint (P6); true when it moved. */
  const pumpReaction = async (reaction: Reaction): Promise<boolean> => {
    const name = `reaction:${reaction.name}`;
    const record = (await processStore.consumer(name)) ?? { name, checkpoint: 0 };
    let attempt = 1;
    if (record.retry) {
      if (record.retry.dueAt > clock.now()) return false;
      attempt = record.retry.attempt;
    }
    const page = await store.readAll({ after: record.checkpoint, limit: pageSize });
    let skipped: number | undefined;
    for (const entry of page) {
      const current = reaction.registry.upcast(entry.event);
      if (current === undefined) {
        skipped = entry.checkpoint;
        continue;
      }
      try {
        await reaction.handle(current, {
          idempotencyKey: reactionKey(reaction.name, entry.event.id),
          attempt,
        });
        await processStore.commit({ consumer: { name, checkpoint: entry.checkpoint } });
        skipped = undefined;
      } catch (error) {
        const described = describeError(error);
        if (attempt >= reaction.maxAttempts) {
          await processStore.commit({
            consumer: { name, checkpoint: entry.checkpoint },
            deadLetter: {
              id: `${reaction.name}/${entry.event.id}`,
              reaction: reaction.name,
              event: entry.event,
              checkpoint: entry.checkpoint,
              error: described,
              attempts: attempt,
              at: clock.now(),
            },
          });
          skipped = undefined;
        } else {
          await processStore.commit({
            consumer: {
              name,
              checkpoint: entry.checkpoint - 1,
              retry: {
                checkpoint: entry.checkpoint,
                eventId: entry.event.id,
                attempt: attempt + 1,
                dueAt: clock.now() + reaction.backoff(attempt),
                error: described,
              },
            },
          });
          return true;
        }
      }
      attempt = 1;
    }
    if (skipped !== undefined)
      await processStore.commit({ consumer: { name, checkpoint: skipped } });
    return page.length > 0;
  };

  const retryDeadLetter = async (id: string): Promise<boolean> => {
    const letter = (await processStore.deadLetters()).find((candidate) => candidate.id === id);
    if (!letter) throw new Error(`no dead letter "${id}"`);
    const reaction = reactions.find((candidate) => candidate.name === letter.reaction);
    if (!reaction) throw new Error(`the runner does not run the reaction "${letter.reaction}"`);
    const current = reaction.registry.upcast(letter.event);
    try {
      if (current !== undefined) {
        await reaction.handle(current, {
          idempotencyKey: reactionKey(reaction.name, letter.event.id),
          attempt: letter.attempts + 1,
        });
      }
    } catch (error) {
      await processStore.commit({
        deadLetter: {
          ...letter,
          error: describeError(error),
          attempts: letter.attempts + 1,
          at: clock.now(),
        },
      });
      return false;
    }
    await processStore.commit({ removeDeadLetter: id });
    return true;
  };

  // ---- refusals after delivery (P4) --------------------------------------------------------

  const refused = async (
    eventIds: readonly string[],
    reason: RefusalReason,
  ): Promise<ProcessInstance[]> => {
    const ids = new Set(eventIds);
    const touched: ProcessInstance[] = [];
    if (ids.size === 0) return touched;
    for (const stored of await processStore.instances()) {
      if (!processByName.has(stored.process)) continue;
      for (let attempt = 0, instance: ProcessInstance | undefined = stored; instance; ) {
        const next = afterRefusal(instance, ids, reason);
        if (!next) break;
        if (
          await commitOrReload(
            { instance: { record: next, expectedRevision: instance.revision } },
            attempt++,
          )
        ) {
          await deliverOutbox(next);
          const settled = await load(next.process, next.id);
          if (settled) touched.push(structuredClone(settled));
          break;
        }
        instance = await load(stored.process, stored.id);
      }
    }
    return touched;
  };

  /** The instance after a refusal of events it delivered, or `undefined` when none concern it. */
  const afterRefusal = (
    instance: ProcessInstance,
    ids: ReadonlySet<string>,
    reason: RefusalReason,
  ): ProcessInstance | undefined => {
    if (instance.status === "failed") return undefined;
    const recorded = new Set(
      instance.history.flatMap((line) => (line.kind === "refused" ? [line.outboxId] : [])),
    );
    // Once compensating, only a refused compensation still matters.
    const compensatingStep = instance.history.find((line) => line.kind === "compensating")?.step;
    const hits = instance.history.filter(
      (line): line is Extract<typeof line, { kind: "delivered" }> =>
        line.kind === "delivered" &&
        (compensatingStep === undefined || line.step === compensatingStep) &&
        !recorded.has(line.outboxId) &&
        line.eventIds.some((id) => ids.has(id)),
    );
    if (hits.length === 0) return undefined;
    const now = clock.now();
    const next: ProcessInstance = {
      ...structuredClone(instance),
      revision: instance.revision + 1,
      updatedAt: now,
    };
    const refusedIds = new Set(hits.map((line) => line.outboxId));
    const errors = hits.map(
      (line): ProcessError => ({
        code: reason.code,
        message: reason.message,
        outboxId: line.outboxId,
      }),
    );
    for (const [index, line] of hits.entries()) {
      next.history.push({
        kind: "refused",
        step: line.step,
        at: now,
        outboxId: line.outboxId,
        stream: line.stream,
        error: errors[index]!,
      });
    }
    if (next.compensation) {
      // A compensation was refused: the instance will end `failed`.
      next.compensation.failures.push(...errors);
      if (next.outbox.length === 0) settle(next);
      return next;
    }
    // The refused commands took no effect: their own compensations must not run.
    next.compensations = next.compensations.filter(
      (compensation) => !refusedIds.has(compensation.outboxId),
    );
    delete next.error;
    startCompensation(next, errors[0]!, now);
    if (next.outbox.length === 0) settle(next);
    return next;
  };

  // ---- the loop ------------------------------------------------------------------------------

  let recovered = false;
  const drainOnce = async (): Promise<void> => {
    if (!recovered) {
      // Outboxes a crash left behind (P3), before anything new; the deadline index (P8).
      forgetAll();
      const all = await processStore.instances();
      for (const instance of all) remember(instance.process, instance.id, instance);
      for (const instance of all) {
        if (instance.outbox.length > 0 && processByName.has(instance.process)) {
          await deliverOutbox(instance);
        }
      }
      recovered = true;
    }
    for (;;) {
      let moved = false;
      for (const definition of processes) {
        while (await pumpProcess(definition)) moved = true;
        for (const id of dueInstances(definition.name)) {
          const instance = await load(definition.name, id);
          if (instance && (await fireDeadlines(definition, instance))) moved = true;
        }
      }
      for (const reaction of reactions) {
        if (await pumpReaction(reaction)) moved = true;
      }
      if (!moved) break;
    }
  };

  // ---- following the store and the clock -----------------------------------------------------

  let subscription: Subscription | undefined;
  let cancelTimer: (() => void) | undefined;
  let started = false;
  let kickQueued = false;

  const kick = () => {
    if (!started || kickQueued) return;
    kickQueued = true;
    void enqueue(async () => {
      kickQueued = false;
      if (!started) return;
      try {
        await drainOnce();
        await armTimer();
      } catch (error) {
        recovered = false;
        options.onError?.(error);
        setWake(options.retryMs ?? 1000);
      }
    });
  };

  const setWake = (ms: number) => {
    cancelTimer?.();
    cancelTimer = clock.setTimer(kick, ms);
  };

  // One timer, for the earliest deadline or reaction retry.
  const armTimer = async () => {
    let earliest = Number.POSITIVE_INFINITY;
    for (const definition of processes) {
      for (const dueAt of deadlineIndex.get(definition.name)?.values() ?? []) {
        earliest = Math.min(earliest, dueAt);
      }
    }
    for (const reaction of reactions) {
      const retry = (await processStore.consumer(`reaction:${reaction.name}`))?.retry;
      if (retry) earliest = Math.min(earliest, retry.dueAt);
    }
    cancelTimer?.();
    cancelTimer = undefined;
    if (earliest !== Number.POSITIVE_INFINITY) setWake(earliest - clock.now());
  };

  return {
    drain: () =>
      enqueue(async () => {
        try {
          await drainOnce();
        } catch (error) {
          recovered = false;
          throw error;
        }
      }),
    handle: (event) =>
      enqueue(async () => {
        for (const definition of processes) await handleEvent(definition, event, undefined);
      }),
    async start() {
      if (started) return;
      started = true;
      await enqueue(async () => {
        await drainOnce();
        await armTimer();
      });
      subscription = store.subscribe(
        { after: await store.lastCheckpoint(), onError: (error) => options.onError?.(error) },
        () => kick(),
      );
    },
    async stop() {
      started = false;
      subscription?.close();
      subscription = undefined;
      cancelTimer?.();
      cancelTimer = undefined;
      await enqueue(async () => undefined);
    },
    list: (query) => processStore.instances(query),
    get: (process, id) => processStore.instance(process, id),
    deadLetters: (reaction) => processStore.deadLetters(reaction),
    retryDeadLetter: (id) => enqueue(() => retryDeadLetter(id)),
    refused: (eventIds, reason) => enqueue(() => refused(eventIds, reason)),
  };
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

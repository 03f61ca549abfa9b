import type { ConfirmedEvent } from "../events/envelope.ts";

/**
 * Where an instance is:
 * - `running`: it has commands to deliver (or compensations to run);
 * - `waiting`: nothing to deliver, waiting for events or deadlines;
 * - `done`: a handler said so (its last commands may still be in the outbox);
 * - `compensated`: a command was refused and the compensations ran (see `compensation`);
 * - `failed`: a handler threw, a command failed for a reason that is not a refusal, or a
 *   compensation was refused (see `error`).
 */
export type ProcessStatus = "running" | "waiting" | "done" | "compensated" | "failed";

/** A command waiting in an instance's outbox. */
export interface OutboxEntry {
  /** `${step}.${index}`: unique within the instance. */
  id: string;
  /** The step that sent it: part of its events' deterministic ids. */
  step: number;
  /** Its index among the step's commands: part of its events' deterministic ids. */
  index: number;
  /** A step's command, or a compensation. */
  kind: "command" | "compensation";
  /** The decider's name. */
  decider: string;
  /** The target stream. */
  stream: string;
  /** The command (JSON). */
  command: unknown;
  /** What undoes it, when declared. */
  compensate?: {
    /** The compensation's decider. */
    decider: string;
    /** Its target stream. */
    stream: string;
    /** The compensating command (JSON). */
    command: unknown;
  };
  /** The input that led to it: its events' `causationId`. */
  causationId: string;
}

/** A timeout that will fire. */
export interface Deadline {
  /** The timeout name. */
  name: string;
  /** When it is due (ms since the epoch). */
  dueAt: number;
  /** The data it was scheduled with. */
  data: unknown;
  /** The step that scheduled it: with the name, its id (`timeout:${name}:${step}`). */
  step: number;
}

/** Why an instance compensated or failed. */
export interface ProcessError {
  /** The error code (a `ChronicleError` code when there was one). */
  code: string;
  /** For people. */
  message: string;
  /** The outbox entry it concerns, when it concerns one. */
  outboxId?: string;
}

/** One line of an instance's history. */
export type ProcessHistoryEntry =
  | {
      /** An event was handled. */
      kind: "event";
      /** The step it was. */
      step: number;
      /** When (the runner's clock, ms). */
      at: number;
      /** The event's id. */
      eventId: string;
      /** The event's type. */
      type: string;
      /** The event's stream. */
      stream: string;
      /** The outbox ids of the commands the step sent. */
      commands: string[];
    }
  | {
      /** A timeout fired and was handled. */
      kind: "timeout";
      /** The step it was. */
      step: number;
      /** When (the runner's clock, ms). */
      at: number;
      /** The timeout's name. */
      name: string;
      /** When it was due (ms). */
      dueAt: number;
      /** The outbox ids of the commands the step sent. */
      commands: string[];
    }
  | {
      /** A command (or compensation) was delivered. */
      kind: "delivered";
      /** The step that sent it. */
      step: number;
      /** When (the runner's clock, ms). */
      at: number;
      /** Its outbox id. */
      outboxId: string;
      /** Its target stream. */
      stream: string;
      /** The ids of the events it appended (none when it decided nothing). */
      eventIds: string[];
    }
  | {
      /** A command (or compensation) was refused, or failed. */
      kind: "refused";
      /** The step that sent it. */
      step: number;
      /** When (the runner's clock, ms). */
      at: number;
      /** Its outbox id. */
      outboxId: string;
      /** Its target stream. */
      stream: string;
      /** Why. */
      error: ProcessError;
    }
  | {
      /** A refusal started the compensations. */
      kind: "compensating";
      /** The step the compensation is. */
      step: number;
      /** When (the runner's clock, ms). */
      at: number;
      /** The refusal. */
      reason: ProcessError;
      /** The outbox ids of the commands dropped undelivered. */
      skipped: string[];
      /** The outbox ids of the compensations queued, in the order they run. */
      commands: string[];
    }
  | {
      /** A handler threw: the instance failed. */
      kind: "failed";
      /** The step it was. */
      step: number;
      /** When (the runner's clock, ms). */
      at: number;
      /** Why. */
      error: ProcessError;
    };

/** The persisted record of one process instance. */
export interface ProcessInstance {
  /** The process name. */
  process: string;
  /** The instance id (what `correlate` returned). */
  id: string;
  /** The process version that created it. */
  version: number;
  /** Where it is. */
  status: ProcessStatus;
  /** The handlers' state (JSON). */
  state: unknown;
  /** The correlation id of its first event; its commands' events carry it. */
  correlationId: string;
  /** The last step number (inputs handled plus compensation starts). */
  step: number;
  /** Bumped by every write: the store refuses a write made from an older revision. */
  revision: number;
  /** Ids of the inputs handled (event ids, and `timeout:${name}:${step}`). */
  handled: string[];
  /** What happened, in order. */
  history: ProcessHistoryEntry[];
  /** Commands not yet delivered, in delivery order. */
  outbox: OutboxEntry[];
  /** Pending timeouts. */
  deadlines: Deadline[];
  /** Compensations of the delivered commands, in delivery order. */
  compensations: {
    /** The outbox id of the command it undoes. */
    outboxId: string;
    /** The compensation's decider. */
    decider: string;
    /** Its target stream. */
    stream: string;
    /** The compensating command (JSON). */
    command: unknown;
  }[];
  /** Set when a command was refused: the reason. */
  compensation?: {
    /** The refusal that started the compensations. */
    reason: ProcessError;
    /** Compensations that were refused or failed in turn. */
    failures: ProcessError[];
  };
  /** Set when it failed. */
  error?: ProcessError;
  /** When it was created and last written (the runner's clock). */
  createdAt: number;
  /** When it was last written. */
  updatedAt: number;
}

/** A waiting retry of a reaction: the event at `checkpoint` failed `attempt - 1` times. */
export interface ReactionRetry {
  /** The failing event's global checkpoint. */
  checkpoint: number;
  /** Its id. */
  eventId: string;
  /** The attempt to make next (2 for the first retry). */
  attempt: number;
  /** When to make it. */
  dueAt: number;
  /** The last error. */
  error: ProcessError;
}

/** The checkpoint of one consumer of the event log (a process or a reaction). */
export interface ConsumerRecord {
  /** `process:${name}` or `reaction:${name}`. */
  name: string;
  /** The global checkpoint of the last event fully handled. */
  checkpoint: number;
  /** A reaction's waiting retry. */
  retry?: ReactionRetry;
}

/** An event a reaction gave up on, with the error. */
export interface DeadLetter {
  /** Unique: `${reaction}/${event.id}`. */
  id: string;
  /** The reaction's name. */
  reaction: string;
  /** The event. */
  event: ConfirmedEvent;
  /** Its global checkpoint. */
  checkpoint: number;
  /** The last error. */
  error: ProcessError;
  /** How many attempts were made. */
  attempts: number;
  /** When it was dead-lettered (or last retried). */
  at: number;
}

/** An instance to store, if its stored revision is `expectedRevision` (0: none yet). */
export interface InstanceWrite {
  /** The instance as it is to be stored. */
  record: ProcessInstance;
  /** The revision the write was made from. */
  expectedRevision: number;
}

/**
 * One atomic write: everything handling one input (or one page of events) changes, stored whole
 * or not at all.
 */
export interface ProcessWrite {
  /** An instance to store, if its stored revision is `expectedRevision` (0: none yet). */
  instance?: InstanceWrite;
  /**
   * More instances to store in the same write (the runner's page of events: every instance it
   * touched), each at most once, each only if its stored revision is its `expectedRevision`.
   */
  instances?: InstanceWrite[];
  /** A consumer checkpoint to store; a checkpoint never moves back. */
  consumer?: ConsumerRecord;
  /** A dead letter to add or replace. */
  deadLetter?: DeadLetter;
  /** A dead letter to remove, by id. */
  removeDeadLetter?: string;
}

/** Which instances {@link ProcessStore.instances} lists. */
export interface InstanceQuery {
  /** Only this process's. */
  process?: string;
  /** Only these statuses. */
  status?: readonly ProcessStatus[];
}

/**
 * The durable part of processes and reactions. Every implementation passes
 * `runProcessStoreContract` (packages/core/src/process/testing/process-store-contract.ts).
 */
export interface ProcessStore {
  /** One instance, or `undefined`. */
  instance(process: string, id: string): Promise<ProcessInstance | undefined>;
  /** Instances matching `query`, by process then id. */
  instances(query?: InstanceQuery): Promise<ProcessInstance[]>;
  /** A consumer's checkpoint record, or `undefined` before its first write. */
  consumer(name: string): Promise<ConsumerRecord | undefined>;
  /** Dead letters, oldest first; only one reaction's when named. */
  deadLetters(reaction?: string): Promise<DeadLetter[]>;
  /**
   * Applies one write atomically. Fails with `concurrency` and writes nothing (no instance, no
   * checkpoint) when any instance's stored revision is not its `expectedRevision`.
   */
  commit(write: ProcessWrite): Promise<void>;
}

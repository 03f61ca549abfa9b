// @chronicle/core/process: durable processes (sagas) and reactions over an event store.
// Runtime-free like the rest of core; hosts (browser leader tab, node Durable Object) bring a
// ProcessStore and a clock.

export { type Clock, createVirtualClock, systemClock, type VirtualClock } from "./clock.ts";
export {
  defineReaction,
  type Reaction,
  type ReactionContext,
  type ReactionSpec,
  type RetryPolicy,
} from "./define-reaction.ts";
export { deterministicId, processEventId } from "./deterministic-id.ts";
export { MemoryProcessStore } from "./memory-process-store.ts";
export {
  type CompensatingCommand,
  defineProcess,
  type Process,
  type ProcessCommand,
  type ProcessHandlers,
  type ProcessSpec,
  type ProcessStep,
  type ScheduleTimeout,
  type StepContext,
  send,
  type Timeout,
} from "./process-definition.ts";
export {
  createProcessRunner,
  type ListQuery,
  type ProcessRunner,
  type ProcessRunnerOptions,
  type RefusalReason,
} from "./process-runner.ts";
export type {
  ConsumerRecord,
  DeadLetter,
  Deadline,
  InstanceQuery,
  InstanceWrite,
  OutboxEntry,
  ProcessError,
  ProcessHistoryEntry,
  ProcessInstance,
  ProcessStatus,
  ProcessStore,
  ProcessWrite,
  ReactionRetry,
} from "./process-store.ts";

// @chronicle/core/store: helpers for authors of event stores and hosts (the Dexie store, the sync
// node's Durable Object, the sync engine), so that every store agrees on appends, reads and
// subscriptions. Apps do not need them: they use `@chronicle/core`.

export { decideEvents } from "../decider/command-handler.ts";
export { loadUsableSnapshot, snapshotIfDue } from "../fold/load-state.ts";
export {
  copySkipped,
  learnedSkips,
  noteSkipped,
  type SkippedField,
  skippedField,
  withSkipped,
} from "../fold/skipped-events.ts";
export { checkBackfill } from "../local/check-backfill.ts";
export { projectionKey } from "../projection/projection-runner.ts";
export { defaultSnapshotsKept, snapshotKey, snapshotsToPrune } from "../snapshot/snapshot-store.ts";
export {
  type AppendPlan,
  concurrencyError,
  matchesExpected,
  planAppend,
  validateBatch,
  validateExpectedVersion,
} from "./append-plan.ts";
export { sliceStream } from "./memory-store.ts";
export { createPullSubscription, type PullSubscriptionOptions } from "./subscription.ts";

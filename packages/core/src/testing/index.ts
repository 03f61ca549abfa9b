// @chronicle/core/testing: helpers for testing apps built on Chronicle, for any test runner.
export {
  type DeciderGiven,
  type DeciderWhen,
  deciderSpec,
  deepEqual,
  SpecificationError,
} from "./decider-spec.ts";

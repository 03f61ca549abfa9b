// internal: not exported. The app's definitions the node keeps snapshots of. createSyncNode runs
// at the top of the Worker's module (`export default createSyncNode({ snapshots })`), in every
// isolate that loads the module, including the ones that run StreamLog objects: it records the
// definitions here, where the objects find them (functions cannot cross an RPC).
import { ChronicleError } from "@chronicle/core";
import type { SnapshotDefinitions } from "@chronicle/sync/protocol";

const registered: {
  deciders: SnapshotDefinitions["deciders"] & unknown[];
  projections: NonNullable<SnapshotDefinitions["projections"]>[number][];
  every: number | undefined;
} = { deciders: [], projections: [], every: undefined };

/**
 * Records the definitions (several nodes built in one isolate add theirs). The same name of one
 * kind with two versions is a configuration mistake: it throws.
 */
export function registerSnapshotDefinitions(definitions: SnapshotDefinitions): void {
  const every = definitions.every;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 1)) {
    throw new ChronicleError(
      "internal",
      `snapshots.every must be a positive integer, got ${every}`,
    );
  }
  if (every !== undefined) registered.every = every;
  for (const [list, added] of [
    [registered.deciders, definitions.deciders ?? []],
    [registered.projections, definitions.projections ?? []],
  ] as const) {
    for (const foldable of added) {
      const known = list.find((other) => other.name === foldable.name);
      if (known && known.version !== foldable.version) {
        throw new ChronicleError(
          "internal",
          `snapshots: two versions of ${foldable.kind} "${foldable.name}" (${known.version} and ${foldable.version})`,
        );
      }
      if (!known) (list as unknown[]).push(foldable);
    }
  }
}

/** What the node keeps snapshots of. */
export function snapshotDefinitions(): SnapshotDefinitions {
  return {
    deciders: registered.deciders,
    projections: registered.projections,
    ...(registered.every === undefined ? {} : { every: registered.every }),
  };
}

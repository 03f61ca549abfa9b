// internal: not exported. The app's processes, reactions and deciders the node hosts
// (docs/architecture.md, "Processes", "On the sync node"). createSyncNode runs at the top of the
// Worker's module, in every isolate that loads it, including the ones running StreamLog and
// ProcessHost objects: it records the definitions here, where the objects find them (functions
// cannot cross an RPC). One ProcessHost object runs each process type and each reaction; its
// name is its host key (`process:<name>`, `reaction:<name>`).
import type { Decider } from "@chronicle/core";
import type { Clock, Process, Reaction } from "@chronicle/core/process";

/** The node's identity: `meta.actor` and `meta.device` of the events its processes write. */
export const NODE_ACTOR = "chronicle-node";

/** What one ProcessHost object runs. */
export interface HostDefinition {
  /** `process:<name>` or `reaction:<name>`: the object's name and the grant pattern it needs. */
  key: string;
  /** The definition. */
  definition: Process | Reaction;
}

const registered: {
  hosts: Map<string, HostDefinition>;
  deciders: Map<string, Decider>;
  clock: Clock | undefined;
} = { hosts: new Map(), deciders: new Map(), clock: undefined };

/** The host key of a process or reaction. */
export function hostKeyOf(definition: Process | Reaction): string {
  return `${definition.kind}:${definition.name}`;
}

/** What createSyncNode passes on. */
export interface ProcessDefinitions {
  processes?: readonly Process[] | undefined;
  reactions?: readonly Reaction[] | undefined;
  deciders?: readonly Decider[] | undefined;
  clock?: Clock | undefined;
}

/**
 * Records the definitions (several nodes built in one isolate add theirs). Two different
 * definitions under one name are a configuration mistake: it throws.
 */
export function registerProcessDefinitions(definitions: ProcessDefinitions): void {
  for (const definition of [...(definitions.processes ?? []), ...(definitions.reactions ?? [])]) {
    const key = hostKeyOf(definition);
    const known = registered.hosts.get(key);
    if (known && known.definition !== definition) {
      throw new Error(`createSyncNode: two ${definition.kind}es are named "${definition.name}"`);
    }
    registered.hosts.set(key, { key, definition });
  }
  for (const decider of definitions.deciders ?? []) {
    const known = registered.deciders.get(decider.name);
    if (known && known !== decider) {
      throw new Error(`createSyncNode: two deciders are named "${decider.name}"`);
    }
    registered.deciders.set(decider.name, decider);
  }
  if (definitions.clock) registered.clock = definitions.clock;
}

/** Every host the node runs. */
export function processHosts(): HostDefinition[] {
  return [...registered.hosts.values()];
}

/** The host named `key`, or `undefined`. */
export function processHost(key: string): HostDefinition | undefined {
  return registered.hosts.get(key);
}

/** Every decider the processes may send commands to. */
export function processDeciders(): Decider[] {
  return [...registered.deciders.values()];
}

/** The clock of deadlines and retries (a test's virtual clock, else the system's). */
export function processClock(): Clock | undefined {
  return registered.clock;
}

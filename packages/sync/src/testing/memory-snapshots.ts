// internal: not exported. The states MemoryNode keeps for new devices, per stream and fold, as
// the node's snapshot table (worker/src/snapshots/snapshot-table.ts) keeps them: a state is
// stored where `serveSnapshots` computed it, and each save prunes the fold: the newest
// `KEPT_SNAPSHOTS` states of the version just saved stay (the next state is folded from the
// newest), and the fold's other versions go (the node serves only its current definitions').
import type { ConfirmedEvent } from "@chronicle/core";
import { KEPT_SNAPSHOTS, type SnapshotSource, type SnapshotWant } from "../protocol/snapshots.ts";

/** One stored state: the version that folded it, where it stands, and its JSON. */
interface KeptState {
  version: number;
  position: number;
  json: string;
}

/** A fold's states are kept under its kind and name, whatever the version. */
const foldKey = (fold: Pick<SnapshotWant, "kind" | "name">) => `${fold.kind}/${fold.name}`;

export class MemorySnapshots {
  /** By stream, then fold: states in position order. */
  readonly #streams = new Map<string, Map<string, KeptState[]>>();

  /** What `serveSnapshots` reads and saves for one stream whose log is `events`. */
  source(stream: string, events: readonly ConfirmedEvent[]): SnapshotSource {
    const stored = this.#streams.get(stream) ?? new Map<string, KeptState[]>();
    this.#streams.set(stream, stored);
    return {
      head: events.length,
      read: (after, limit) => structuredClone(events.slice(after, after + limit)),
      nearest: (want, position) => {
        const found = (stored.get(foldKey(want)) ?? [])
          .filter((s) => s.version === want.version && s.position <= position)
          .at(-1);
        return found && { position: found.position, state: JSON.parse(found.json) };
      },
      save: (want, position, json) => {
        const kept = (stored.get(foldKey(want)) ?? []).filter(
          (s) => s.version === want.version && s.position !== position,
        );
        kept.push({ version: want.version, position, json });
        kept.sort((a, b) => a.position - b.position);
        stored.set(foldKey(want), kept.slice(-KEPT_SNAPSHOTS));
      },
    };
  }

  /** How many states are kept for a stream. */
  count(stream: string): number {
    let count = 0;
    for (const kept of this.#streams.get(stream)?.values() ?? []) count += kept.length;
    return count;
  }

  /** The states kept of one fold of a stream, oldest first. */
  kept(
    stream: string,
    fold: Pick<SnapshotWant, "kind" | "name">,
  ): { version: number; position: number }[] {
    const kept = this.#streams.get(stream)?.get(foldKey(fold)) ?? [];
    return kept.map(({ version, position }) => ({ version, position }));
  }
}

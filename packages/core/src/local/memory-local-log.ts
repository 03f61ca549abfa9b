import { ChronicleError } from "../errors.ts";
import type { ConfirmedEvent, RecordedEvent } from "../events/envelope.ts";
import { assertExactJson } from "../events/exact-json.ts";
import type { Snapshot } from "../snapshot/snapshot-store.ts";
import { checkBackfill } from "./check-backfill.ts";
import { historyIncomplete } from "./history-incomplete.ts";
import type {
  ConfirmedStart,
  LocalLog,
  PendingCommand,
  PendingEvent,
  StreamSyncMeta,
} from "./local-log.ts";

interface StreamCopy {
  /** Events 1..floor are not held: `confirmed[i]` is at position floor + 1 + i. */
  floor: number;
  startSnapshots: Snapshot[];
  confirmed: ConfirmedEvent[];
  pending: PendingEvent[];
  commands: Map<string, PendingCommand>;
  meta: StreamSyncMeta;
  nextSeq: number;
}

/**
 * LocalLog in memory: for tests and Node clients. Survives an engine restart when the same
 * instance is reused, which is how tests model a device reopening its storage.
 *
 * @example
 * const local = new MemoryLocalLog();
 * const engine = createSyncEngine({ local, transport, deciders: [board] });
 */
export class MemoryLocalLog implements LocalLog {
  readonly #streams = new Map<string, StreamCopy>();

  #stream(stream: string): StreamCopy {
    let copy = this.#streams.get(stream);
    if (!copy) {
      copy = {
        floor: 0,
        startSnapshots: [],
        confirmed: [],
        pending: [],
        commands: new Map(),
        meta: {},
        nextSeq: 1,
      };
      this.#streams.set(stream, copy);
    }
    return copy;
  }

  async confirmedHead(stream: string): Promise<number> {
    const copy = this.#streams.get(stream);
    return copy ? copy.floor + copy.confirmed.length : 0;
  }

  async confirmedFloor(stream: string): Promise<number> {
    return this.#streams.get(stream)?.floor ?? 0;
  }

  async readConfirmed(
    stream: string,
    after = 0,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<ConfirmedEvent[]> {
    const copy = this.#streams.get(stream);
    if (!copy) return [];
    const from = Math.max(0, after);
    if (from < copy.floor) throw historyIncomplete(stream, copy.floor, from);
    const start = from - copy.floor;
    return structuredClone(copy.confirmed.slice(start, start + limit));
  }

  async startConfirmedAt(stream: string, start: ConfirmedStart): Promise<void> {
    const copy = this.#stream(stream);
    if (!Number.isSafeInteger(start.floor) || start.floor < 1) {
      throw new ChronicleError("validation", `${stream}: a floor is a position >= 1`, {
        details: { floor: start.floor },
      });
    }
    if (copy.floor > 0 || copy.confirmed.length > 0) {
      throw new ChronicleError(
        "validation",
        `${stream}: the confirmed log is not empty; only an empty one starts after a floor`,
        { details: { stream, head: copy.floor + copy.confirmed.length } },
      );
    }
    copy.floor = start.floor;
    copy.startSnapshots = structuredClone([...start.snapshots]);
    copy.meta = { ...copy.meta, epoch: start.epoch };
  }

  async readStartSnapshots(stream: string): Promise<Snapshot[]> {
    return structuredClone(this.#streams.get(stream)?.startSnapshots ?? []);
  }

  async prependConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    const copy = this.#stream(stream);
    const below = [...events]
      .filter((event) => event.position <= copy.floor)
      .sort((a, b) => a.position - b.position);
    if (below.length === 0) return;
    checkBackfill(stream, copy.floor, below);
    const fresh = structuredClone(below);
    copy.confirmed.unshift(...fresh);
    copy.floor = below[0]!.position - 1;
    const confirmedIds = new Set(fresh.map((event) => event.id));
    copy.pending = copy.pending.filter((entry) => !confirmedIds.has(entry.event.id));
    forgetSettledCommands(copy);
  }

  async readPending(stream: string): Promise<PendingEvent[]> {
    return structuredClone(this.#streams.get(stream)?.pending ?? []);
  }

  async readCommands(stream: string): Promise<PendingCommand[]> {
    return structuredClone([...(this.#streams.get(stream)?.commands.values() ?? [])]);
  }

  async addPending(
    stream: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void> {
    assertExactJson(events, "events");
    const copy = this.#stream(stream);
    const entries = events.map((event) => {
      const entry: PendingEvent = {
        localSeq: copy.nextSeq++,
        event: structuredClone(withoutOrder(event)),
      };
      if (command) entry.commandId = command.id;
      return entry;
    });
    copy.pending.push(...entries);
    if (command) copy.commands.set(command.id, structuredClone(command));
  }

  async applyConfirmed(stream: string, events: readonly ConfirmedEvent[]): Promise<void> {
    const copy = this.#stream(stream);
    let head = copy.floor + copy.confirmed.length;
    const fresh: ConfirmedEvent[] = [];
    for (const event of events) {
      if (event.position <= head) continue;
      if (event.position !== head + 1) {
        throw new ChronicleError(
          "protocol",
          `${stream}: event at position ${event.position} after head ${head} leaves a gap`,
          {
            details: { stream, head, position: event.position },
          },
        );
      }
      fresh.push(structuredClone(event));
      head++;
    }
    if (fresh.length === 0) return;
    const confirmedIds = new Set(fresh.map((event) => event.id));
    copy.confirmed.push(...fresh);
    copy.pending = copy.pending.filter((entry) => !confirmedIds.has(entry.event.id));
    forgetSettledCommands(copy);
  }

  async replacePending(
    stream: string,
    commandId: string,
    events: readonly RecordedEvent[],
    command?: PendingCommand,
  ): Promise<void> {
    assertExactJson(events, "events");
    const copy = this.#stream(stream);
    const index = copy.pending.findIndex((entry) => entry.commandId === commandId);
    const kept = copy.pending.filter((entry) => entry.commandId !== commandId);
    const replacements = events.map((event) => ({
      localSeq: 0,
      event: structuredClone(withoutOrder(event)),
      commandId: command?.id ?? commandId,
    }));
    const at = index < 0 ? kept.length : index;
    kept.splice(at, 0, ...replacements);
    // Renumber so local order stays strictly increasing after the splice.
    copy.pending = kept.map((entry) => ({ ...entry, localSeq: copy.nextSeq++ }));
    copy.commands.delete(commandId);
    if (command && events.length > 0) copy.commands.set(command.id, structuredClone(command));
  }

  async dropPending(stream: string, ids: readonly string[]): Promise<void> {
    const copy = this.#stream(stream);
    const dropped = new Set(ids);
    copy.pending = copy.pending.filter((entry) => !dropped.has(entry.event.id));
    forgetSettledCommands(copy);
  }

  async resetConfirmed(stream: string, epoch: string): Promise<void> {
    const copy = this.#stream(stream);
    copy.confirmed = [];
    copy.floor = 0;
    copy.startSnapshots = [];
    copy.meta = { ...copy.meta, epoch };
  }

  async readMeta(stream: string): Promise<StreamSyncMeta> {
    return { ...(this.#streams.get(stream)?.meta ?? {}) };
  }

  async writeMeta(stream: string, meta: StreamSyncMeta): Promise<void> {
    this.#stream(stream).meta = { ...meta };
  }

  async streamsWithPending(): Promise<string[]> {
    return [...this.#streams]
      .filter(([, copy]) => copy.pending.length > 0)
      .map(([stream]) => stream);
  }
}

function withoutOrder(event: RecordedEvent): RecordedEvent {
  const { position: _position, recordedAt: _recordedAt, ...rest } = event;
  return rest;
}

function forgetSettledCommands(copy: StreamCopy): void {
  const live = new Set(copy.pending.map((entry) => entry.commandId));
  for (const id of copy.commands.keys()) if (!live.has(id)) copy.commands.delete(id);
}

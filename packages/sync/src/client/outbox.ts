// internal: not exported. The outbox rules of a stream session: which pending events go in the
// next push, deciding a strict command again, and dropping what the node refused for good.
import {
  ChronicleError,
  type PendingCommand,
  type PendingEvent,
  type RecordedEvent,
  toChronicleError,
} from "@chronicle/core";
import { decideEvents } from "@chronicle/core/store";
import { byteLength, type ProtocolLimits } from "../protocol/limits.ts";
import type { EngineContext } from "./engine-context.ts";

// Room for the push frame's own fields around its events.
const FRAME_OVERHEAD = 256;

/**
 * A prefix of rebaseable pending events within the node's limits, stopping before a strict
 * command and, when a command does not fit whole, at the command boundary before it.
 * `isolate` pushes one event at a time (to find an event the node refuses).
 */
export function takeBatch(
  pending: readonly PendingEvent[],
  strictIds: ReadonlySet<string>,
  limits: ProtocolLimits,
  isolate: boolean,
): PendingEvent[] {
  const max = isolate ? 1 : limits.maxEventsPerPush;
  const batch: PendingEvent[] = [];
  let bytes = FRAME_OVERHEAD;
  for (const entry of pending) {
    if (entry.commandId && strictIds.has(entry.commandId)) break;
    const size = byteLength(JSON.stringify(entry.event)) + 1;
    if (batch.length > 0 && (batch.length >= max || bytes + size > limits.maxFrameBytes)) {
      const last = batch[batch.length - 1]!;
      if (entry.commandId !== undefined && entry.commandId === last.commandId) {
        const start = batch.findIndex((e) => e.commandId === entry.commandId);
        if (start > 0) batch.length = start;
      }
      break;
    }
    batch.push(entry);
    bytes += size;
  }
  return batch;
}

/**
 * Decides a strict command again on the confirmed state (it is at the front of the outbox, so
 * nothing pending precedes it): its events are replaced in place, or dropped and reported when
 * the command no longer holds. Later strict commands are then marked to be decided again too.
 */
export async function redecideStrict(
  engine: EngineContext,
  stream: string,
  command: PendingCommand,
  pending: readonly PendingEvent[],
): Promise<void> {
  const old = pending.filter((entry) => entry.commandId === command.id);
  const decider = engine.deciders.get(command.decider);
  const reject = async (error: ChronicleError) => {
    await engine.local.replacePending(stream, command.id, []);
    await markLaterStrictStale(engine, stream, command.id);
    engine.emitRejected({
      stream,
      commandId: command.id,
      decider: command.decider,
      command: command.command,
      code: error.code,
      message: error.message,
      events: old.map((entry) => entry.event),
    });
    engine.emitChange(stream);
  };
  if (!decider) {
    return reject(
      new ChronicleError(
        "not-found",
        `no decider "${command.decider}" is registered to re-run a strict command`,
      ),
    );
  }
  const { state, position } = await engine.confirmedState(stream, decider);
  let decided: RecordedEvent[];
  try {
    const template = old[0]?.event.meta;
    decided = decideEvents(decider, stream, command.command, state, {
      actor: template?.actor ?? engine.actor,
      device: engine.device,
      correlationId: template?.correlationId ?? command.id,
      commandId: command.id,
    });
  } catch (error) {
    return reject(toChronicleError(error, "validation"));
  }
  await engine.local.replacePending(stream, command.id, decided, {
    ...command,
    basePosition: position,
  });
  await markLaterStrictStale(engine, stream, command.id);
  engine.emitChange(stream);
}

/**
 * Later strict commands were decided on a state that included the changed command's old
 * events: mark them (persistently, basePosition -1) to be decided again before they are pushed.
 */
async function markLaterStrictStale(
  engine: EngineContext,
  stream: string,
  changedId: string,
): Promise<void> {
  const commands = await engine.local.readCommands(stream);
  const pending = await engine.local.readPending(stream);
  for (const other of commands) {
    if (!other.strict || other.id === changedId || other.basePosition < 0) continue;
    const events = pending
      .filter((entry) => entry.commandId === other.id)
      .map((entry) => entry.event);
    await engine.local.replacePending(stream, other.id, events, { ...other, basePosition: -1 });
  }
}

/**
 * Drops an event the node refused for good, with the rest of its command, and reports it; once:
 * an event no longer pending (dropped on an earlier notice of the same refusal) is left alone.
 */
export async function dropRefused(
  engine: EngineContext,
  stream: string,
  entry: PendingEvent,
  error: ChronicleError,
): Promise<void> {
  const pending = await engine.local.readPending(stream);
  if (!pending.some((p) => p.event.id === entry.event.id)) return;
  const command = entry.commandId
    ? (await engine.local.readCommands(stream)).find((c) => c.id === entry.commandId)
    : undefined;
  const dropped = entry.commandId
    ? pending.filter((p) => p.commandId === entry.commandId)
    : [entry];
  if (entry.commandId) await engine.local.replacePending(stream, entry.commandId, []);
  else await engine.local.dropPending(stream, [entry.event.id]);
  engine.emitRejected({
    stream,
    ...(command
      ? { commandId: command.id, decider: command.decider, command: command.command }
      : {}),
    code: error.code,
    message: error.message,
    events: dropped.map((p) => p.event),
  });
  engine.emitChange(stream);
}

/**
 * Whether two copies of an event are the same event: equal in everything but what the node
 * owns (`position`, `recordedAt`, `meta.actor`), key order aside; the node's id-conflict rule.
 */
export function sameEvent(a: RecordedEvent, b: RecordedEvent): boolean {
  return contentOf(a) === contentOf(b);
}

function contentOf(event: RecordedEvent): string {
  const { position: _position, recordedAt: _recordedAt, meta, ...rest } = event;
  const { actor: _actor, ...ownMeta } = meta;
  return JSON.stringify({ ...rest, meta: ownMeta }, (_key, value: unknown) =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : value,
  );
}

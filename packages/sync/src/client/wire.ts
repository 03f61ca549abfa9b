// internal: not exported. The zod-inferred wire types and core's event types describe the same
// JSON; core's `data: unknown` is wider than zod's JSON type. These are the only casts between them.
import type { ConfirmedEvent, RecordedEvent } from "@chronicle/core";
import type { WireConfirmedEvent, WireEvent } from "../protocol/frames.ts";

export const toWireEvents = (events: readonly RecordedEvent[]): WireEvent[] =>
  events as WireEvent[];
export const toWireConfirmed = (events: readonly ConfirmedEvent[]): WireConfirmedEvent[] =>
  events as WireConfirmedEvent[];
export const fromWireConfirmed = (events: readonly WireConfirmedEvent[]): ConfirmedEvent[] =>
  events as ConfirmedEvent[];

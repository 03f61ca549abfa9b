/** Bounds the node enforces (docs/architecture.md, rule 7); clients batch within them. */
export interface ProtocolLimits {
  /** Largest event, as JSON, in bytes. @default 65536 (64 KiB) */
  maxEventBytes: number;
  /** Most events in one push. @default 500 */
  maxEventsPerPush: number;
  /** Largest WebSocket frame or HTTP body, in bytes. @default 1048576 (1 MiB) */
  maxFrameBytes: number;
  /** Events per pull page when the client gives no limit. @default 500 */
  defaultPullLimit: number;
  /** Most events per pull page. @default 1000 */
  maxPullLimit: number;
}

/** The limits a node enforces unless configured otherwise. */
export const defaultLimits: Readonly<ProtocolLimits> = Object.freeze({
  maxEventBytes: 64 * 1024,
  maxEventsPerPush: 500,
  maxFrameBytes: 1024 * 1024,
  defaultPullLimit: 500,
  maxPullLimit: 1000,
});

/**
 * Keep-alive frames outside the JSON protocol: a client may send the text `ping` at any time and
 * the node answers `pong` without parsing it (the Durable Object's runtime answers it while the
 * object hibernates, so heartbeats neither wake it nor count against the rate limit). Clients
 * drop `pong` before parsing server frames.
 */
export const HEARTBEAT = Object.freeze({
  /** What a client sends. */
  ping: "ping",
  /** What the node answers. */
  pong: "pong",
});

/** Deepest JSON nesting accepted in a frame or body (events' data included): core's. */
export { MAX_JSON_DEPTH } from "@chronicle/core";

/** The protocol version this module speaks. */
export const PROTOCOL_VERSION = 1;

const encoder = new TextEncoder();

/**
 * UTF-8 byte length of a string (what frame and body limits count).
 *
 * @example
 * byteLength("héllo"); // 6
 */
export function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

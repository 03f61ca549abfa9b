import type { CommandContext } from "./command-handler.ts";

/**
 * Options of one command, for every `execute(stream, decider, command, options?)`: the browser's
 * Chronicle and its worker engine, and @chronicle/sync's SyncEngine. A host ignores the fields it
 * has no use for: SyncEngine keeps no undo stacks (`label`, `undoable`, `mergeKey`).
 */
export interface ExecuteOptions {
  /**
   * With sync: pushed with the position it was decided on, and decided again (or rejected) if
   * the stream moved meanwhile. Without sync, commands are always checked against the head.
   * @default false
   */
  strict?: boolean;
  /** The label of its undo step ("Move card"). @default the host's `undo.labelOf`, else the event types */
  label?: string;
  /** Record it for undo. @default true */
  undoable?: boolean;
  /**
   * Commands that belong together in one undo step share a key (typing into one text field:
   * `bindTextDoc` sets it): consecutive ones on the same stream closer than the undo capture
   * window merge. Without a key, a command is an undo step of its own.
   */
  mergeKey?: string;
  /** Who and where the command comes from; its events inherit correlation and causation from it. */
  context?: CommandContext;
}

import type { Chronicle } from "@chronicle/browser";
import type { Projection } from "@chronicle/core";
import { lazy, Suspense } from "react";

/** What {@link ChronicleDevtools} shows. */
export interface ChronicleDevtoolsProps {
  /** The stream to inspect. */
  stream: string;
  /**
   * The projections whose state the time-travel tab previews (the first is selected); their
   * changes also tell the panel that the stream moved.
   */
  projections: readonly Projection<any, any>[];
  /** Which Chronicle. @default the provider's */
  chronicle?: Chronicle;
  /** The tab shown first. @default "events" */
  tab?: DevtoolsTab;
  /** How many of the newest events the event log loads. @default 1000 */
  logWindow?: number;
}

/** The panel's tabs. */
export type DevtoolsTab = "events" | "time-travel" | "sync" | "processes";

const Panel = lazy(() => import("./devtools-panel.tsx"));

/**
 * Chronicle's devtools for one stream: its event log (virtualised: type, actor, device, time,
 * pending or confirmed, undo/redo, correlation and causation ids, the payload on expand), a
 * time-travel slider that previews a projection's state at any position, and the stream's sync
 * status with its pending count and the node's rejections, and the app's process instances with
 * their state, status and deadlines. Loaded lazily on first render.
 *
 * @example
 * import { ChronicleDevtools } from "@chronicle/react/devtools";
 * {showDevtools && <ChronicleDevtools stream="board:1" projections={[boardView]} />}
 */
export function ChronicleDevtools(props: ChronicleDevtoolsProps) {
  return (
    <Suspense fallback={<aside className="chronicle-devtools" aria-busy="true" />}>
      <Panel {...props} />
    </Suspense>
  );
}

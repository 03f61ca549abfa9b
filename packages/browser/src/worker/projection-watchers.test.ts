// Node tier: watchers post a projection's record to the main thread when its state changed, in
// order, and not again for a notice that left the state as it was.
import type { ProjectionRecord } from "@chronicle/core";
import { describe, expect, it } from "vitest";
import { boardView } from "../__fixtures__/board.ts";
import { ProjectionWatchers } from "./projection-watchers.ts";

describe("ProjectionWatchers", () => {
  it("posts a record when the state changed, not when a notice left it as it was", async () => {
    let state = { count: 0 };
    let revision = 0;
    const record = (): ProjectionRecord & { revision: number } => ({
      key: "board-view/s",
      name: "board-view",
      version: 1,
      checkpoint: 0,
      state,
      revision: ++revision,
    });
    let reads = 0;
    let lastRead: Promise<ProjectionRecord> = Promise.resolve(record());
    const watchers = new ProjectionWatchers(() => {
      reads++;
      lastRead = Promise.resolve(record());
      return lastRead;
    }, true);
    const posted: unknown[] = [];
    watchers.add(boardView, "s", (delivered) => posted.push(delivered.state));
    // The watcher's refresh continues after the read it awaits, before whoever awaits it next.
    const settle = () => lastRead.then(() => undefined);
    await settle();
    expect(posted).toEqual([{ count: 0 }]);
    // Notices that moved nothing this projection folds (the kept state, the same object).
    watchers.onCommit({ streams: ["s"] });
    watchers.onCommit({ streams: ["s"] });
    await settle();
    expect(reads).toBe(3);
    expect(posted).toHaveLength(1);
    state = { count: 1 };
    watchers.onCommit({ streams: ["s"] });
    await settle();
    expect(posted).toEqual([{ count: 0 }, { count: 1 }]);
  });
});

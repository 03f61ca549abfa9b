// internal: not exported. Opens the board app's worker engine on a fake-indexeddb factory, for
// the Node-tier tests that stand two engines on one database in for two tabs.
import { IDBKeyRange } from "fake-indexeddb";
import type { EngineOptions } from "../worker/engine-options.ts";
import { openEngine } from "../worker/open-engine.ts";
import { board, boardView, cardAdded, cardRemoved } from "./board.ts";

export function openBoardEngine(
  name: string,
  indexedDB: IDBFactory,
  extra: Partial<EngineOptions> = {},
) {
  return openEngine({
    name,
    events: [cardAdded, cardRemoved],
    deciders: [board],
    projections: [boardView],
    indexedDB,
    IDBKeyRange,
    ...extra,
  });
}

// A device following 500 streams, in Chromium (on-disk profile, production build), with a real
// local node: connections it holds, and how long a change to any one of them takes to reach it
// (p50/p95). Prints a table.
import { it } from "vitest";
import { modeNote, printBrowserTable, scaled } from "./browser-kit.ts";

it("a device following 500 streams: connections held, change latency", async () => {
  const streams = scaled(500, 10);
  // SLOT(H2, many streams): once a device can follow streams by prefix over O(1) connections,
  // open the production build here following `streams` streams (seeded on the node), count the
  // connections it holds (e.g. the node's or the transport's count), then write to random
  // streams from a second client and time until this device's subscriber sees each change;
  // print p50/p95 against the target (within a second). Until then the row says so.
  printBrowserTable(`A device following ${streams} streams (${modeNote()})`, [
    {
      case: `follow ${streams} streams`,
      connections: "not available yet (H2: many streams)",
      "change p50 ms": "",
      "change p95 ms": "",
    },
  ]);
});

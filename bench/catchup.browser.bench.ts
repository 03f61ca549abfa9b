// Sync catch-up in Chromium: a fresh device pulls 100,000 events from a real local node
// (`wrangler dev`, started by the browser bench config's global setup) into IndexedDB with a
// projection kept current, against the floor of fetching the same pages over HTTP and putting
// them raw into IndexedDB, in the same run. Prints a table; asserts only correctness.
import {
  type ConfirmedEvent,
  createEnvelope,
  defineProjection,
  type NewEvent,
  type SyncStatus,
} from "@chronicle/core";
import { createSyncEngine, createWebSocketTransport } from "@chronicle/sync";
import { inject, it } from "vitest";
import { cardAdded } from "../packages/browser/src/__fixtures__/board.ts";
import { DexieLocalLog } from "../packages/browser/src/store/dexie-local-log.ts";
import { DexieEventStore } from "../packages/browser/src/store/dexie-store.ts";
import {
  createProjectionUpdater,
  projectionKey,
} from "../packages/browser/src/store/projection-updater.ts";
import { DexieSnapshotStore } from "../packages/browser/src/store/state-stores.ts";
import { openRaw, rawPut } from "./raw-idb.ts";
import { printTable } from "./table.ts";

// `inject("syncNode")` is typed by test/browser-sync/global-setup.ts (same tsconfig program).

const run = crypto.randomUUID().slice(0, 8);
/** 100,000, times BENCH_SCALE (bench/vitest.browser.config.ts). */
const total = Math.max(1_000, Math.round(100_000 * inject("benchScale")));
const pushSize = 500;
const pageSize = 1_000;

/** A simple projection, O(1) per event (the board fixture's copies a map per event). */
const tally = defineProjection({
  name: "catchup-tally",
  events: [cardAdded],
  initialState: { count: 0, titleChars: 0, last: "" },
  handlers: {
    "card.added": (state, { data }) => ({
      count: state.count + 1,
      titleChars: state.titleChars + data.title.length,
      last: data.id,
    }),
  },
});

/** printTable as one console.log call (browser mode prefixes every intercepted call). */
function printBrowserTable(...args: Parameters<typeof printTable>): void {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.map(String).join(" "));
  try {
    printTable(...args);
  } finally {
    console.log = log;
  }
  console.log(lines.join("\n"));
}

async function call(url: string, token: string, init: RequestInit = {}): Promise<unknown> {
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  const body = await response.json().catch(() => undefined);
  if (!response.ok)
    throw new Error(`${init.method ?? "GET"} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

it("catch-up of 100,000 events from a local node: engine vs fetch + raw IndexedDB put", async () => {
  const { url, tokens } = inject("syncNode");
  const token = tokens.alice;
  const stream = `catchup:${run}`;
  const endpoint = `${url}/v1/streams/${encodeURIComponent(stream)}/events`;

  // Seed (not measured): 100,000 small events, 500 per push.
  const seedStart = performance.now();
  for (let start = 0; start < total; start += pushSize) {
    const events: NewEvent[] = Array.from({ length: pushSize }, (_, i) =>
      createEnvelope(
        stream,
        {
          type: "card.added",
          version: 1,
          data: { id: `c${start + i}`, title: `Card ${start + i}` },
        },
        { actor: "alice", device: "bench-seed" },
      ),
    );
    await call(endpoint, token, { method: "POST", body: JSON.stringify({ events }) });
  }
  const seedMs = performance.now() - seedStart;

  // (a) The floor: GET pages of 1,000, one raw IndexedDB transaction per page.
  const floorStart = performance.now();
  const raw = await openRaw(`bench-catchup-raw-${run}`);
  let after = 0;
  let fetchMs = 0;
  let expected = tally.initialState;
  for (;;) {
    const fetchStart = performance.now();
    const page = (await call(`${endpoint}?after=${after}&limit=${pageSize}`, token)) as {
      events: ConfirmedEvent[];
      head: number;
      more: boolean;
    };
    const putStart = performance.now();
    fetchMs += putStart - fetchStart;
    await rawPut(
      raw,
      page.events.map((event) => ({ ...event, seq: event.position })),
    );
    for (const event of page.events) {
      expected = tally.handlers["card.added"]!(expected, event as never);
    }
    after = page.events.at(-1)?.position ?? after;
    if (!page.more || page.events.length === 0) break;
  }
  const floorMs = performance.now() - floorStart;
  raw.close();
  if (after !== total) throw new Error(`floor fetched up to ${after}, expected ${total}`);

  // (b) The engine: a fresh database, the projection updater installed as the browser host does,
  // a sync engine over a DexieLocalLog and a WebSocket transport, until synced at the head.
  const engineStart = performance.now();
  const store = new DexieEventStore({ name: `bench-catchup-engine-${run}`, broadcast: false });
  store.setAppendHook(
    createProjectionUpdater({
      store,
      projections: [tally],
      snapshots: new DexieSnapshotStore(store.db),
    }).update,
  );
  const engine = createSyncEngine({
    local: new DexieLocalLog(store),
    transport: createWebSocketTransport({ url, token }),
    device: `bench-${run}`,
    actor: "alice",
  });
  const synced = new Promise<void>((resolve, reject) => {
    engine.onSyncStatus(stream, (status: SyncStatus) => {
      if (status.state === "synced" && status.confirmedHead === total) resolve();
      if (status.state === "error") reject(new Error(`sync error: ${JSON.stringify(status)}`));
    });
  });
  engine.start(stream);
  await synced;
  const engineMs = performance.now() - engineStart;
  engine.close();

  const record = await store.db.projections.get(projectionKey(tally, stream));
  const head = await store.head(stream);
  await store.close();
  if (head !== total) throw new Error(`engine stored ${head} events, expected ${total}`);
  if (record?.checkpoint !== total || JSON.stringify(record.state) !== JSON.stringify(expected)) {
    throw new Error(
      `projection is ${JSON.stringify(record)}, expected ${JSON.stringify(expected)} at ${total}`,
    );
  }

  const rate = (ms: number) => Math.round(total / (ms / 1000));
  printBrowserTable(
    `Catch-up of ${total.toLocaleString("en")} events from a local node in Chromium, on-disk profile, dev-server sources (target: engine >= 0.5x floor)`,
    [
      { case: "seed over HTTP, 500 per push (not measured)", ms: seedMs, "events/s": rate(seedMs) },
      { case: "floor: GET pages of 1,000 + raw IDB put", ms: floorMs, "events/s": rate(floorMs) },
      { case: "  of which waiting for the GETs", ms: fetchMs, "events/s": rate(fetchMs) },
      {
        case: "engine: WebSocket + DexieLocalLog + projection",
        ms: engineMs,
        "events/s": rate(engineMs),
      },
      { case: "ratio floor ms / engine ms", ms: "", "events/s": (floorMs / engineMs).toFixed(2) },
    ],
  );
});

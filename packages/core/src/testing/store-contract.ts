// @chronicle/core/testing/store-contract: the behaviour every EventStore must have, as one Vitest
// suite. Run it against each store: `runEventStoreContract("memory", { makeStore })`.
import { describe, expect, it } from "vitest";
import { isChronicleError } from "../errors.ts";
import { createEnvelope } from "../events/envelope.ts";
import type { EventStore, LoggedEvent, NewEvent } from "../store/types.ts";

/** What {@link runEventStoreContract} needs to test a store. */
export interface StoreContractOptions {
  /** A fresh, empty store that takes `recordedAt` from `now`. */
  makeStore: (context: { now: () => number }) => EventStore | Promise<EventStore>;
  /** Features the store does not have; their tests are skipped (say why in the caller). */
  skip?: {
    /** `readAll`, `lastCheckpoint` and all-stream subscriptions. */
    allStreams?: boolean;
    /** `subscribe`, for one stream and for all. */
    subscriptions?: boolean;
  };
}

/**
 * Builds `count` valid events for `stream`; `tag` goes into the data so batches differ.
 *
 * @example
 * await store.append("s-1", sampleEvents("s-1", 3), { expectedVersion: "no-stream" });
 */
export function sampleEvents(stream: string, count: number, tag = "e"): NewEvent[] {
  return Array.from({ length: count }, (_, index) =>
    createEnvelope(
      stream,
      { type: "thing.happened", version: 1, data: { tag, index, text: "héllo ✓" } },
      { actor: "alice", device: "dev-1", correlationId: "c-1" },
    ),
  );
}

async function expectCode(
  promise: Promise<unknown>,
  code: string,
): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    if (!isChronicleError(error)) throw error;
    expect(error.code).toBe(code);
    return error.details;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

/**
 * Registers the contract suite for one EventStore implementation.
 *
 * @example
 * runEventStoreContract("memory", { makeStore: ({ now }) => new MemoryEventStore({ now }) });
 */
export function runEventStoreContract(name: string, options: StoreContractOptions): void {
  let time = 1_000;
  const now = () => time;
  const open = async () => {
    time = 1_000;
    return options.makeStore({ now });
  };

  describe(`EventStore contract: ${name}`, () => {
    describe("append", () => {
      it("assigns gapless positions from 1 and reports the head", async () => {
        const store = await open();
        const first = await store.append("s-1", sampleEvents("s-1", 3));
        expect(first.results.map((r) => r.position)).toEqual([1, 2, 3]);
        expect(first.head).toBe(3);
        const second = await store.append("s-1", sampleEvents("s-1", 2, "b"));
        expect(second.results.map((r) => r.position)).toEqual([4, 5]);
        expect(await store.head("s-1")).toBe(5);
        expect(await store.head("other")).toBe(0);
        await store.close();
      });

      it("keeps the envelope as written and stamps recordedAt from the store clock", async () => {
        const store = await open();
        const [event] = sampleEvents("s-1", 1);
        time = 5_000;
        const { results } = await store.append("s-1", [event!]);
        expect(results[0]).toEqual({ id: event!.id, position: 1, recordedAt: 5_000 });
        const [read] = await store.readStream("s-1");
        expect(read).toEqual({ ...event, position: 1, recordedAt: 5_000 });
        await store.close();
      });

      it("numbers each stream on its own", async () => {
        const store = await open();
        await store.append("a", sampleEvents("a", 2));
        const { results } = await store.append("b", sampleEvents("b", 1));
        expect(results[0]!.position).toBe(1);
        expect(await store.head("a")).toBe(2);
        await store.close();
      });

      it("checks every form of expectedVersion and writes nothing on mismatch", async () => {
        const store = await open();
        await expectCode(
          store.append("s", sampleEvents("s", 1), { expectedVersion: "exists" }),
          "concurrency",
        );
        await expectCode(
          store.append("s", sampleEvents("s", 1), { expectedVersion: 3 }),
          "concurrency",
        );
        await store.append("s", sampleEvents("s", 2), { expectedVersion: "no-stream" });
        const details = await expectCode(
          store.append("s", sampleEvents("s", 1), { expectedVersion: "no-stream" }),
          "concurrency",
        );
        expect(details.head).toBe(2);
        await expectCode(
          store.append("s", sampleEvents("s", 1), { expectedVersion: 1 }),
          "concurrency",
        );
        await store.append("s", sampleEvents("s", 1), { expectedVersion: 2 });
        await store.append("s", sampleEvents("s", 1), { expectedVersion: "exists" });
        await store.append("s", sampleEvents("s", 1), { expectedVersion: "any" });
        expect(await store.head("s")).toBe(5);
        await store.close();
      });

      it("lets exactly one of two concurrent writers at the same version win", async () => {
        const store = await open();
        await store.append("s", sampleEvents("s", 1));
        const outcomes = await Promise.allSettled([
          store.append("s", sampleEvents("s", 1, "x"), { expectedVersion: 1 }),
          store.append("s", sampleEvents("s", 1, "y"), { expectedVersion: 1 }),
        ]);
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
        expect(isChronicleError(rejected.reason, "concurrency")).toBe(true);
        expect(await store.head("s")).toBe(2);
        await store.close();
      });

      it("rejects malformed input with validation and writes nothing", async () => {
        const store = await open();
        const good = sampleEvents("s", 1);
        await expectCode(store.append("bad stream!", sampleEvents("bad stream!", 1)), "validation");
        await expectCode(store.append("s", sampleEvents("other", 1)), "validation");
        await expectCode(store.append("s", [good[0]!, { ...good[0]! }]), "validation");
        await expectCode(
          store.append("s", [good[0]!, { ...sampleEvents("s", 1)[0]!, version: 0 }]),
          "validation",
        );
        await expectCode(
          store.append("s", [{ ...good[0]!, meta: null } as unknown as NewEvent]),
          "validation",
        );
        await expectCode(store.append("s", good, { expectedVersion: -1 }), "validation");
        await expectCode(
          store.append("s", good, { expectedVersion: "latest" as unknown as number }),
          "validation",
        );
        expect(await store.head("s")).toBe(0);
        await store.close();
      });
    });

    describe("idempotency by event id", () => {
      it("returns the original result for a re-appended batch and writes nothing", async () => {
        const store = await open();
        const batch = sampleEvents("s", 3);
        const first = await store.append("s", batch, { expectedVersion: "no-stream" });
        time = 9_000;
        const again = await store.append("s", batch, { expectedVersion: "no-stream" });
        expect(again.results).toEqual(first.results);
        const anyAgain = await store.append("s", batch);
        expect(anyAgain.results).toEqual(first.results);
        const numbered = await store.append("s", batch, { expectedVersion: 0 });
        expect(numbered.results).toEqual(first.results);
        expect(await store.head("s")).toBe(3);
        await store.close();
      });

      it("treats a single re-sent event after a lost result as the same write", async () => {
        const store = await open();
        await store.append("s", sampleEvents("s", 2));
        const [event] = sampleEvents("s", 1, "late");
        const first = await store.append("s", [event!], { expectedVersion: 2 });
        const again = await store.append("s", [event!], { expectedVersion: 2 });
        expect(again.results).toEqual(first.results);
        expect(await store.head("s")).toBe(3);
        await store.close();
      });

      it("refuses a batch that partly matches stored events, writing nothing", async () => {
        const store = await open();
        const batch = sampleEvents("s", 2);
        await store.append("s", batch);
        const mixed = [batch[1]!, ...sampleEvents("s", 1, "new")];
        await expectCode(store.append("s", mixed), "concurrency");
        expect(await store.head("s")).toBe(2);
        await store.close();
      });

      it("refuses stored ids at a different expected position", async () => {
        const store = await open();
        const batch = sampleEvents("s", 2);
        await store.append("s", batch);
        await store.append("s", sampleEvents("s", 1, "more"));
        await expectCode(store.append("s", batch, { expectedVersion: 3 }), "concurrency");
        await expectCode(store.append("s", [batch[1]!, batch[0]!]), "concurrency");
        expect(await store.head("s")).toBe(3);
        await store.close();
      });
    });

    describe("exact data", () => {
      it("refuses events that are not exact JSON with validation and the path, writing nothing", async () => {
        const store = await open();
        const [good] = sampleEvents("s", 1);
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        const inexact: Array<[unknown, string]> = [
          [{ n: -0 }, "events.1.data.n"],
          [{ n: Number.NaN }, "events.1.data.n"],
          [{ n: Number.POSITIVE_INFINITY }, "events.1.data.n"],
          [JSON.parse('{"a":{"__proto__":{"admin":true}}}'), "events.1.data.a"],
          [{ s: "\udc00" }, "events.1.data.s"],
          [{ "\ud800": 1 }, "events.1.data"],
          [{ u: undefined }, "events.1.data.u"],
          [{ f: () => 1 }, "events.1.data.f"],
          [{ b: 1n }, "events.1.data.b"],
          [{ h: new Array(3) }, "events.1.data.h"],
          [{ d: new Date(0) }, "events.1.data.d"],
          [{ m: new Map() }, "events.1.data.m"],
          [cycle, "events.1.data"],
        ];
        for (const [data, path] of inexact) {
          const [bad] = sampleEvents("s", 1, "bad");
          const details = await expectCode(
            store.append("s", [good!, { ...bad!, data }]),
            "validation",
          );
          expect(String(details.path).startsWith(path), `${path}: ${String(details.path)}`).toBe(
            true,
          );
        }
        expect(await store.head("s")).toBe(0);
        await store.close();
      });
    });

    describe("event ids are unique per stream", () => {
      it("stores the same id in another stream as a different event", async () => {
        const store = await open();
        const [event] = sampleEvents("s", 1);
        const inT = { ...event!, stream: "t", data: { other: true } };
        await store.append("s", [event!], { expectedVersion: "no-stream" });
        const appended = await store.append("t", [inT], { expectedVersion: "no-stream" });
        expect(appended.results).toEqual([{ id: event!.id, position: 1, recordedAt: 1_000 }]);
        expect((await store.readStream("s")).map((e) => e.data)).toEqual([event!.data]);
        expect((await store.readStream("t")).map((e) => e.data)).toEqual([{ other: true }]);
        // Within each stream the id still means one event: re-sent, it is the same write.
        expect((await store.append("t", [inT])).results).toEqual(appended.results);
        await expectCode(store.append("s", [event!], { expectedVersion: 1 }), "concurrency");
        expect([await store.head("s"), await store.head("t")]).toEqual([1, 1]);
        if (!options.skip?.allStreams) {
          const all = await store.readAll();
          expect(all.map((entry) => [entry.event.stream, entry.event.id])).toEqual([
            ["s", event!.id],
            ["t", event!.id],
          ]);
        }
        await store.close();
      });
    });

    describe("reading a stream", () => {
      async function seeded(): Promise<EventStore> {
        const store = await open();
        // positions 1..10; recordedAt = 1000 * position
        for (let position = 1; position <= 10; position++) {
          time = 1_000 * position;
          await store.append("s", sampleEvents("s", 1, `p${position}`));
        }
        return store;
      }
      const positions = (events: { position: number }[]) => events.map((e) => e.position);

      it("reads forward from a position with a limit", async () => {
        const store = await seeded();
        expect(positions(await store.readStream("s"))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(positions(await store.readStream("s", { from: 4, limit: 3 }))).toEqual([4, 5, 6]);
        expect(await store.readStream("s", { from: 11 })).toEqual([]);
        expect(await store.readStream("missing")).toEqual([]);
        await store.close();
      });

      it("reads backward from the head or from a position", async () => {
        const store = await seeded();
        expect(positions(await store.readStream("s", { direction: "backward", limit: 3 }))).toEqual(
          [10, 9, 8],
        );
        expect(positions(await store.readStream("s", { direction: "backward", from: 4 }))).toEqual([
          4, 3, 2, 1,
        ]);
        await store.close();
      });

      it("reads the stream as it was at a position", async () => {
        const store = await seeded();
        expect(positions(await store.readStream("s", { toPosition: 3 }))).toEqual([1, 2, 3]);
        expect(
          positions(
            await store.readStream("s", { direction: "backward", toPosition: 6, limit: 2 }),
          ),
        ).toEqual([6, 5]);
        await store.close();
      });

      it("reads the stream as it was at a time (recordedAt)", async () => {
        const store = await seeded();
        expect(positions(await store.readStream("s", { untilTime: 3_500 }))).toEqual([1, 2, 3]);
        const [last] = await store.readStream("s", {
          direction: "backward",
          untilTime: 7_000,
          limit: 1,
        });
        expect(last!.position).toBe(7);
        expect(await store.readStream("s", { untilTime: 999 })).toEqual([]);
        await store.close();
      });

      it("gives back copies: mutating a read event does not change the log", async () => {
        const store = await seeded();
        const [event] = await store.readStream("s", { limit: 1 });
        try {
          (event!.data as { tag: string }).tag = "changed";
        } catch {
          // frozen events throw in strict mode: also fine
        }
        const [again] = await store.readStream("s", { limit: 1 });
        expect((again!.data as { tag: string }).tag).toBe("p1");
        await store.close();
      });
    });

    describe.skipIf(options.skip?.allStreams)("reading across streams", () => {
      it("reads every stream in commit order with checkpoints", async () => {
        const store = await open();
        await store.append("a", sampleEvents("a", 2));
        await store.append("b", sampleEvents("b", 1));
        await store.append("a", sampleEvents("a", 1));
        const all = await store.readAll();
        expect(all.map((e) => [e.checkpoint, e.event.stream, e.event.position])).toEqual([
          [1, "a", 1],
          [2, "a", 2],
          [3, "b", 1],
          [4, "a", 3],
        ]);
        expect(await store.lastCheckpoint()).toBe(4);
        const page = await store.readAll({ after: 1, limit: 2 });
        expect(page.map((e) => e.checkpoint)).toEqual([2, 3]);
        const onlyB = await store.readAll({ streamPrefix: "b" });
        expect(onlyB.map((e) => e.checkpoint)).toEqual([3]);
        await store.close();
      });
    });

    describe.skipIf(options.skip?.subscriptions)("subscriptions", () => {
      function collect(
        store: EventStore,
        stream: string | undefined,
        after: number,
        until: number,
      ) {
        const seen: LoggedEvent[] = [];
        let done!: () => void;
        const finished = new Promise<void>((resolve) => {
          done = resolve;
        });
        const subscription = store.subscribe(
          { ...(stream === undefined ? {} : { stream }), after },
          async (entry) => {
            seen.push(entry);
            // Yield so that appends interleave with delivery.
            await Promise.resolve();
            if (entry.checkpoint >= until) done();
          },
        );
        return { seen, finished, subscription };
      }

      it("catches up then goes live without gaps or duplicates (one stream)", async () => {
        const store = await open();
        await store.append("s", sampleEvents("s", 5));
        const { seen, finished, subscription } = collect(store, "s", 2, 12);
        const writes = [
          store.append("s", sampleEvents("s", 3, "x")),
          store.append("s", sampleEvents("s", 2, "y")),
        ];
        await subscription.caughtUp;
        await Promise.all(writes);
        await store.append("s", sampleEvents("s", 2, "z"));
        await finished;
        subscription.close();
        expect(seen.map((e) => e.checkpoint)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        expect(seen.map((e) => e.event.position)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        await store.close();
      });

      it.skipIf(options.skip?.allStreams)("catches up then goes live across streams", async () => {
        const store = await open();
        await store.append("a", sampleEvents("a", 2));
        const { seen, finished, subscription } = collect(store, undefined, 0, 5);
        await store.append("b", sampleEvents("b", 2));
        await store.append("a", sampleEvents("a", 1));
        await finished;
        subscription.close();
        expect(seen.map((e) => [e.checkpoint, e.event.stream])).toEqual([
          [1, "a"],
          [2, "a"],
          [3, "b"],
          [4, "b"],
          [5, "a"],
        ]);
        await store.close();
      });

      it("stops delivering after close", async () => {
        const store = await open();
        const seen: number[] = [];
        let delivered!: () => void;
        const first = new Promise<void>((resolve) => {
          delivered = resolve;
        });
        const subscription = store.subscribe({ stream: "s" }, (entry) => {
          seen.push(entry.checkpoint);
          delivered();
        });
        await store.append("s", sampleEvents("s", 1));
        const second = store.subscribe({ stream: "s" }, () => {});
        await second.caughtUp;
        await subscription.caughtUp;
        // Its delivery may trail another subscriber's catch-up (stores may read concurrently).
        await first;
        expect(seen).toEqual([1]);
        subscription.close();
        second.close();
        await store.append("s", sampleEvents("s", 2));
        // Another subscriber catching up proves the appends were committed and dispatched.
        const third = store.subscribe({ stream: "s" }, () => {});
        await third.caughtUp;
        third.close();
        expect(seen).toEqual([1]);
        await store.close();
      });

      it("reports a failing handler through onError and stops", async () => {
        const store = await open();
        await store.append("s", sampleEvents("s", 3));
        const delivered: number[] = [];
        const failure = new Promise<unknown>((resolve) => {
          store.subscribe({ stream: "s", onError: resolve }, (entry) => {
            delivered.push(entry.checkpoint);
            if (entry.checkpoint === 2) throw new Error("boom");
          });
        });
        expect(String(await failure)).toContain("boom");
        expect(delivered).toEqual([1, 2]);
        await store.close();
      });
    });
  });
}

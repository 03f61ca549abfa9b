// internal: not exported. DexieEventStore.writeAt (a write on a head and tail that were not
// read) against other writers of the same database, run on fake-indexeddb (write-at.test.ts)
// and on Chromium's IndexedDB (write-at.browser.test.ts). Two stores on one database stand in
// for two tabs; commit notices between them are off, as if they had not arrived yet, so only
// the database can refuse a stale write.
import { isChronicleError, type ProjectionRecord } from "@chronicle/core";
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { describe, expect, it } from "vitest";
import type { DexieEventStore } from "./dexie-store.ts";

/** Opens a store on the database `name` (a second call: another tab on the same database). */
export type OpenStore = (name: string) => DexieEventStore;

const record = (stream: string, checkpoint: number, state: unknown): ProjectionRecord => ({
  key: `count/${stream}`,
  name: "count",
  version: 1,
  checkpoint,
  state,
});

export function writeAtCases(label: string, open: OpenStore): void {
  let databases = 0;
  // Two tabs on a database holding `s` at head 2 (seq 1-2); `mine` wrote them.
  async function tabs() {
    const name = `write-at-${crypto.randomUUID().slice(0, 8)}-${++databases}`;
    const mine = open(name);
    const other = open(name);
    await mine.append("s", sampleEvents("s", 2));
    const tail = mine.tailHint;
    if (!tail) throw new Error("the store forgot the tail it wrote");
    const next = mine.confirmAt("s", sampleEvents("s", 1, "next"), 2, tail);
    const close = async () => {
      await mine.close();
      await other.close();
      mine.db.close();
      other.db.close();
    };
    return { mine, other, tail, next, close };
  }

  describe(`writeAt (${label})`, () => {
    it("commits the events and the records together, and continues the log", async () => {
      const { mine, tail, next, close } = await tabs();
      expect(mine.canWriteAt).toBe(true);
      // (The append's own notice may still be on its way: only the records tell them apart.)
      const heard: string[][] = [];
      mine.onCommit((notice) => heard.push((notice.records ?? []).map((r) => r.key)));
      const outcome = await mine.writeAt("s", next, tail, () => [record("s", 3, { n: 3 })]);
      expect(outcome).toEqual({ projections: [record("s", 3, { n: 3 })] });
      expect((await mine.readStream("s")).map((event) => event.position)).toEqual([1, 2, 3]);
      expect(await mine.lastCheckpoint()).toBe(3);
      expect(await mine.db.projections.get("count/s")).toMatchObject({ checkpoint: 3 });
      expect(mine.tailHint?.seq).toBe(3);
      expect(heard).toContainEqual(["count/s"]);
      await close();
    });

    it("is refused whole when another tab appended to the stream since", async () => {
      const { mine, other, tail, next, close } = await tabs();
      await other.append("s", sampleEvents("s", 1, "theirs"));
      const outcome = await mine.writeAt("s", next, tail, () => [record("s", 3, { n: 3 })]);
      expect(outcome).toBe("stale");
      const stored = await mine.readStream("s");
      expect(stored.map((event) => event.data)).toEqual([
        expect.objectContaining({ tag: "e", index: 0 }),
        expect.objectContaining({ tag: "e", index: 1 }),
        expect.objectContaining({ tag: "theirs", index: 0 }),
      ]);
      expect(await mine.db.projections.get("count/s")).toBeUndefined();
      await close();
    });

    it("is refused whole when another tab appended to another stream since", async () => {
      const { mine, other, tail, next, close } = await tabs();
      await other.append("t", sampleEvents("t", 1));
      expect(await mine.writeAt("s", next, tail, () => [])).toBe("stale");
      expect(await mine.head("s")).toBe(2);
      expect((await mine.readAll()).map((entry) => entry.event.stream)).toEqual(["s", "s", "t"]);
      await close();
    });

    it("writes nothing when the projection step declines", async () => {
      const { mine, tail, next, close } = await tabs();
      expect(await mine.writeAt("s", next, tail, () => undefined)).toBe("declined");
      expect(await mine.head("s")).toBe(2);
      await close();
    });

    it("rejects a record that cannot be stored with validation, writing nothing", async () => {
      const { mine, tail, next, close } = await tabs();
      const error = await mine
        .writeAt("s", next, tail, () => [record("s", 3, { render: () => 0 })])
        .catch((e: unknown) => e);
      expect(isChronicleError(error, "validation")).toBe(true);
      expect(await mine.head("s")).toBe(2);
      expect(await mine.db.projections.get("count/s")).toBeUndefined();
      // The store goes on.
      const retry = await mine.writeAt("s", next, tail, () => [record("s", 3, { n: 3 })]);
      expect(retry).not.toBe("stale");
      expect(await mine.head("s")).toBe(3);
      await close();
    });
  });
}

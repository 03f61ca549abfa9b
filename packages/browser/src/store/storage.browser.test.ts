// Browser tier: storage realities in Chromium: a quota failure inside a transaction, and a
// database held open by an "old tab" at an older schema version.
import { isChronicleError } from "@chronicle/core";
import { sampleEvents } from "@chronicle/core/testing/store-contract";
import { describe, expect, it } from "vitest";
import { boardWorker, connect } from "../__fixtures__/connect.ts";
import { DexieEventStore } from "./dexie-store.ts";

const run = crypto.randomUUID().slice(0, 8);

describe("storage quota", () => {
  // Chromium 156 accepts Storage.overrideQuotaForOrigin over the DevTools protocol but does not
  // enforce it on IndexedDB writes from the test frame, so a real quota cannot be reached in a
  // test here. Instead the browser's own QuotaExceededError is raised from inside the
  // transaction, half-way through a batch, which is where IndexedDB reports it.
  it("fails with code quota and stores nothing of the failing batch", async () => {
    const store = new DexieEventStore({ name: `quota-${run}` });
    await store.append("s", sampleEvents("s", 3, "first"));
    let rows = 0;
    const creating = () => {
      if (++rows === 50)
        throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    };
    store.db.events.hook("creating", creating);
    const failure = await store.append("s", sampleEvents("s", 100, "big")).catch((e: unknown) => e);
    store.db.events.hook("creating").unsubscribe(creating);
    expect(isChronicleError(failure, "quota")).toBe(true);
    expect(await store.head("s")).toBe(3);
    expect(await store.lastCheckpoint()).toBe(3);
    expect(await store.db.events.count()).toBe(3);
    const { head } = await store.append("s", sampleEvents("s", 100, "again"));
    expect(head).toBe(103);
    await store.close();
  });
});

describe("a database blocked by an old tab", () => {
  it("reports blocked while the old connection stays open, then opens", async () => {
    const name = `blocked-${run}`;
    // The "old tab": version 1 of the database (Dexie's version 1 is IndexedDB version 10), and
    // it ignores versionchange, as pages built without a handler do.
    const old = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let opened = false;
    let sawBlocked: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      sawBlocked = resolve;
    });
    const connecting = connect(name, boardWorker(), (status) => {
      if (status.type === "blocked") sawBlocked();
    }).then((connection) => {
      opened = true;
      return connection;
    });
    await blocked;
    expect(opened).toBe(false);
    old.close();
    const { chronicle } = await connecting;
    expect(opened).toBe(true);
    await chronicle.close();
  });

  it("steps aside for a newer version from another tab, and says so", async () => {
    const name = `upgrade-${run}`;
    let sawVersionChange: () => void = () => {};
    const versionChange = new Promise<void>((resolve) => {
      sawVersionChange = resolve;
    });
    const { chronicle } = await connect(name, boardWorker(), (status) => {
      if (status.type === "version-change") sawVersionChange();
    });
    // The "new tab": a higher IndexedDB version than Dexie's 10. It opens only if the host
    // closes its connection on versionchange.
    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 100);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await versionChange;
    upgraded.close();
    await chronicle.close();
  });
});

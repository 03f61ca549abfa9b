// Node tier: createChronicle's start over a MessageChannel (no Worker): a host whose database
// cannot be opened rejects with the host's coded error; an endpoint nobody hosts on rejects
// after startTimeoutMs. (Worker load failures are in start-failure.browser.test.ts.)
import { ChronicleError, isChronicleError } from "@chronicle/core";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { expect, it } from "vitest";
import { board, boardView } from "../__fixtures__/board.ts";
import { hostChronicle } from "../worker/host.ts";
import { createChronicle } from "./create-chronicle.ts";

it("rejects with the host's coded error when the database cannot be opened", async () => {
  const { port1, port2 } = new MessageChannel();
  const factory = new IDBFactory();
  // The browser refusing storage (a full disk, a private mode without IndexedDB).
  factory.open = () => {
    throw new DOMException("the disk is full", "QuotaExceededError");
  };
  hostChronicle(
    {
      name: "cannot-open",
      indexedDB: factory,
      IDBKeyRange,
      deciders: [board],
      projections: [boardView],
    },
    port2 as never,
  );
  const error = await createChronicle({ worker: port1 as never, persist: false }).catch(
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ChronicleError);
  expect(isChronicleError(error, "quota")).toBe(true);
  expect((error as ChronicleError).message).toMatch(/cannot-open/);
  port1.close();
});

it("rejects with internal when nothing hosts on the endpoint within startTimeoutMs", async () => {
  const { port1, port2 } = new MessageChannel();
  const error = await createChronicle({
    worker: port1 as never,
    persist: false,
    startTimeoutMs: 50,
  }).catch((reason: unknown) => reason);
  expect(isChronicleError(error, "internal")).toBe(true);
  expect((error as ChronicleError).details).toEqual({ stage: "host", startTimeoutMs: 50 });
  port1.close();
  port2.close();
});

// Browser tier: createChronicle fails loudly instead of hanging when the worker cannot host
// Chronicle: a module that throws as it loads, a module URL that does not resolve, a module that
// never calls hostChronicle. Each rejects with a coded ChronicleError and the worker is
// terminated.
import { ChronicleError, isChronicleError } from "@chronicle/core";
import { expect, it, vi } from "vitest";
import { createChronicle } from "./create-chronicle.ts";

const moduleWorker = (url: URL) => new Worker(url, { type: "module" });

async function startFailure(worker: Worker, startTimeoutMs?: number) {
  const terminate = vi.spyOn(worker, "terminate");
  const started = performance.now();
  const error = await createChronicle({
    worker,
    persist: false,
    ...(startTimeoutMs === undefined ? {} : { startTimeoutMs }),
  }).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return { error, terminate, elapsed: performance.now() - started };
}

it("rejects with internal when the worker module throws as it loads, and terminates it", async () => {
  const { error, terminate, elapsed } = await startFailure(
    moduleWorker(new URL("../__fixtures__/throws.worker.ts", import.meta.url)),
  );
  expect(error).toBeInstanceOf(ChronicleError);
  expect(isChronicleError(error, "internal")).toBe(true);
  expect((error as ChronicleError).message).toMatch(/worker failed to load/);
  expect((error as ChronicleError).message).toMatch(/this worker module is broken/);
  expect((error as ChronicleError).details).toEqual({ stage: "load" });
  expect(terminate).toHaveBeenCalledOnce();
  // The load error, not the (default, 10 s) start timeout.
  expect(elapsed).toBeLessThan(5_000);
});

it("rejects with internal when the worker module cannot be fetched", async () => {
  const { error, terminate, elapsed } = await startFailure(
    moduleWorker(new URL("../__fixtures__/no-such-module.worker.ts", import.meta.url)),
  );
  expect(isChronicleError(error, "internal")).toBe(true);
  expect((error as ChronicleError).details).toEqual({ stage: "load" });
  expect(terminate).toHaveBeenCalledOnce();
  expect(elapsed).toBeLessThan(5_000);
});

it("rejects with internal when the worker never calls hostChronicle within startTimeoutMs", async () => {
  const { error, terminate } = await startFailure(
    moduleWorker(new URL("../__fixtures__/idle.worker.ts", import.meta.url)),
    200,
  );
  expect(isChronicleError(error, "internal")).toBe(true);
  expect((error as ChronicleError).message).toMatch(/did not call hostChronicle within 200 ms/);
  expect((error as ChronicleError).details).toEqual({ stage: "host", startTimeoutMs: 200 });
  expect(terminate).toHaveBeenCalledOnce();
});

it("leaves the worker running when asked not to terminate it", async () => {
  const worker = moduleWorker(new URL("../__fixtures__/idle.worker.ts", import.meta.url));
  const terminate = vi.spyOn(worker, "terminate");
  await expect(
    createChronicle({ worker, persist: false, startTimeoutMs: 50, terminate: false }),
  ).rejects.toMatchObject({ code: "internal" });
  expect(terminate).not.toHaveBeenCalled();
  worker.terminate();
});

// internal: not exported. The worker module of the browser process tests: hosts the shop app
// (processes and reactions). The page may move its process clock (`{ probe: "clock", offset }`,
// before createChronicle) and arm a crash: `{ probe: "crash-at", at: k }` makes the k-th
// command a process sends spin forever while it is decided, after telling the page, which
// terminates the worker there. Every receipts reaction call is reported to the page.
import type { Clock } from "@chronicle/core/process";
import { hostChronicle } from "../worker/host.ts";
import { probes, shopApp } from "./shop.ts";

let offset = 0;
const clock: Clock = {
  now: () => Date.now() + offset,
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

globalThis.addEventListener("message", (message: MessageEvent) => {
  const data = message.data as { probe?: string; offset?: number; at?: number } | undefined;
  if (data?.probe === "clock") offset = data.offset ?? 0;
  if (data?.probe === "crash-at") {
    let calls = 0;
    probes.onProcessCommand = (type) => {
      if (++calls !== data.at) return;
      globalThis.postMessage({ probe: "crashing", type });
      // Never returns: the page terminates this worker in the middle of the delivery.
      for (let spins = 0; ; spins++) if (spins < 0) return;
    };
  }
});
probes.onReceipt = (orderId, attempt) => {
  globalThis.postMessage({ probe: "receipt", orderId, attempt });
};

hostChronicle({ name: "shop-tests", ...shopApp, actor: "tester", processClock: clock });

import { MemoryProcessStore } from "./memory-process-store.ts";
import { runProcessStoreContract } from "./testing/process-store-contract.ts";

runProcessStoreContract("memory", { makeStore: () => new MemoryProcessStore() });

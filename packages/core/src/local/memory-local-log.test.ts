import { runLocalLogContract } from "../testing/local-log-contract.ts";
import { MemoryLocalLog } from "./memory-local-log.ts";

runLocalLogContract("MemoryLocalLog", { makeLog: () => new MemoryLocalLog() });

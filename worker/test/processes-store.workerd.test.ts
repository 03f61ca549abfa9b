// core's ProcessStore contract, run against the ProcessHost's SQLite store inside a real
// ProcessHost Durable Object: every call runs in the object (runInDurableObject), one fresh
// object per store, so each contract test starts empty.
import { runInDurableObject } from "cloudflare:test";
import type { ProcessStore } from "@chronicle/core/process";
import { runProcessStoreContract } from "@chronicle/core/testing/process-store-contract";
import { SqliteProcessStore } from "../src/processes/sqlite-process-store.ts";
import { nodeEnv } from "./node-client.ts";

function sqliteStore(): ProcessStore {
  const namespace = nodeEnv.PROCESS_HOST!;
  const stub = namespace.get(namespace.newUniqueId());
  const inObject =
    <A extends unknown[], R>(call: (store: SqliteProcessStore, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      runInDurableObject(stub, (_instance, state) =>
        call(new SqliteProcessStore(state.storage), ...args),
      );
  return {
    instance: inObject((store, process: string, id: string) => store.instance(process, id)),
    instances: inObject((store, query?: Parameters<ProcessStore["instances"]>[0]) =>
      store.instances(query),
    ),
    consumer: inObject((store, name: string) => store.consumer(name)),
    deadLetters: inObject((store, reaction?: string) => store.deadLetters(reaction)),
    commit: inObject((store, write: Parameters<ProcessStore["commit"]>[0]) => store.commit(write)),
  };
}

runProcessStoreContract("ProcessHost SQLite", { makeStore: sqliteStore });

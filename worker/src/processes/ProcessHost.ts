// The ProcessHost Durable Object: runs ONE process type or ONE reaction of the app on the sync
// node (docs/architecture.md, "Processes", "On the sync node"); its name is the host key
// (`process:<name>` or `reaction:<name>`). Invariants:
// H1. Fed at least once: stream logs send it the events of the types it listens to
//     (process-notifier.ts); `feed` stores them in the inbox (unique by event id) before it
//     answers, so an acknowledged event is never lost and an event fed twice is stored once.
// H2. core's process runner does the work (P1-P8 in process-runner.ts) over the SQLite
//     ProcessStore and the inbox; commands go to the target StreamLogs with deterministic event
//     ids, so a delivery repeated after a crash appends nothing twice.
// H3. Never idle with work left: before draining, an alarm is set a few seconds ahead; after
//     draining, the alarm is moved to the earliest deadline or reaction retry (or removed). An
//     object evicted or killed mid-drain is woken by that alarm and carries on; a drain that
//     fails retries from the alarm, backing off from 1 s to 30 s.
// H4. One drain at a time: feeds and alarms during a drain are folded into one more pass.
import { DurableObject } from "cloudflare:workers";
import { ChronicleError, type ConfirmedEvent } from "@chronicle/core";
import {
  createProcessRunner,
  type DeadLetter,
  type ProcessInstance,
  type ProcessRunner,
  type ProcessStatus,
  systemClock,
} from "@chronicle/core/process";
import type { SyncNodeEnv } from "../env.ts";
import { attempt, type Outcome } from "../stream-log/worker-contract.ts";
import {
  type HostDefinition,
  NODE_ACTOR,
  processClock,
  processDeciders,
  processHost,
} from "./definitions.ts";
import { createHostEventStore } from "./host-event-store.ts";
import { migrateHost } from "./host-schema.ts";
import { Inbox } from "./inbox.ts";
import { SqliteProcessStore } from "./sqlite-process-store.ts";

/** H3: how far ahead the alarm that resumes an interrupted drain is set. */
const resumeAfterMs = 2_000;

/** What `GET /v1/processes/:name` may filter on. */
export interface InstanceFilter {
  status?: ProcessStatus[];
  /** At most this many, in id order, after `after`. */
  limit?: number;
  after?: string;
}

/**
 * The Durable Object running one process type or one reaction of the app: export it from the
 * Worker's entry and bind it as `PROCESS_HOST` with a `new_sqlite_classes` migration when the
 * node runs processes (createSyncNode's `processes` and `reactions`).
 *
 * @example
 * import { createSyncNode, ProcessHost, StreamDirectory, StreamLog } from "@chronicle/node";
 * export { ProcessHost, StreamDirectory, StreamLog };
 * export default createSyncNode({ processes: [fulfilment], deciders: [order, stock, payment] });
 */
export class ProcessHost extends DurableObject<SyncNodeEnv> {
  readonly #store: SqliteProcessStore;
  readonly #inbox: Inbox;
  #runner: ProcessRunner | undefined;
  #host: HostDefinition | undefined;
  #draining: Promise<void> | undefined;
  #again = false;
  #failures = 0;

  /** @internal The Workers runtime constructs the object; an app never does. */
  constructor(ctx: DurableObjectState, env: SyncNodeEnv) {
    super(ctx, env);
    migrateHost(ctx.storage);
    this.#store = new SqliteProcessStore(ctx.storage);
    this.#inbox = new Inbox(ctx.storage);
  }

  /**
   * Stores fed events in the inbox (H1) and starts a drain; answers how many were new.
   *
   * @internal RPC for the stream logs (process-notifier.ts): an app never calls it.
   */
  async feed(key: string, events: ConfirmedEvent[]): Promise<Outcome<number>> {
    const outcome = attempt(() => {
      this.#bind(key);
      return this.#inbox.add(events);
    });
    if (outcome.ok) void this.#drain();
    return outcome;
  }

  /**
   * Instances, in id order (for `GET /v1/processes/:name`).
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  async instances(key: string, filter: InstanceFilter = {}): Promise<Outcome<ProcessInstance[]>> {
    return this.#read(key, async (host) =>
      this.#store.page(host.definition.name, {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.after === undefined ? {} : { after: filter.after }),
        limit: filter.limit ?? 100,
      }),
    );
  }

  /**
   * One instance, or `not-found`.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  async instance(key: string, id: string): Promise<Outcome<ProcessInstance>> {
    return this.#read(key, async (host) => {
      const found = await this.#store.instance(host.definition.name, id);
      if (!found) throw new ChronicleError("not-found", `no instance ${id} of ${key}`);
      return found;
    });
  }

  /**
   * A reaction's dead letters, oldest first.
   *
   * @internal RPC for createSyncNode's routes: an app never calls it.
   */
  async deadLetters(key: string): Promise<Outcome<DeadLetter[]>> {
    return this.#read(key, (host) => this.#store.deadLetters(host.definition.name));
  }

  /**
   * Drains: fires due deadlines and reaction retries, resumes an interrupted drain (H3).
   *
   * @internal Called by the Workers runtime.
   */
  override async alarm(): Promise<void> {
    if (!this.#hostOrUndefined()) return;
    await this.#drain();
  }

  // internals --------------------------------------------------------------------------------

  async #read<T>(key: string, read: (host: HostDefinition) => Promise<T>): Promise<Outcome<T>> {
    try {
      this.#bind(key);
      return { ok: true, value: await read(this.#host!) };
    } catch (error) {
      return attempt(() => {
        throw error;
      });
    }
  }

  /** Records which host this object is (refusing another) and makes its runner. */
  #bind(key: string): void {
    if (this.#host?.key === key) return;
    const bound = this.#meta("host");
    if (bound !== undefined && bound !== key) {
      throw new ChronicleError("internal", `this process host runs ${bound}, not ${key}`);
    }
    const host = processHost(key);
    if (!host) {
      throw new ChronicleError("not-found", `the node runs no ${key.replace(":", " ")}`);
    }
    if (bound === undefined) {
      this.ctx.storage.sql.exec(`INSERT INTO meta (key, value) VALUES ('host', ?)`, key);
    }
    this.#host = host;
  }

  /** The host this object was bound to, when its definition is (still) registered. */
  #hostOrUndefined(): HostDefinition | undefined {
    if (this.#host) return this.#host;
    const bound = this.#meta("host");
    if (bound === undefined) return undefined;
    try {
      this.#bind(bound);
    } catch (error) {
      console.warn("chronicle sync node: process host cannot run", error);
      return undefined;
    }
    return this.#host;
  }

  #meta(key: string): string | undefined {
    return this.ctx.storage.sql
      .exec<{ value: string }>(`SELECT value FROM meta WHERE key = ?`, key)
      .toArray()[0]?.value;
  }

  #runnerOf(host: HostDefinition): ProcessRunner {
    if (this.#runner) return this.#runner;
    const { definition } = host;
    this.#runner = createProcessRunner({
      store: createHostEventStore(this.env, this.#inbox),
      processStore: this.#store,
      deciders: processDeciders(),
      ...(definition.kind === "process"
        ? { processes: [definition] }
        : { reactions: [definition] }),
      clock: processClock() ?? systemClock,
      actor: NODE_ACTOR,
      device: NODE_ACTOR,
    });
    return this.#runner;
  }

  /** H4: one drain at a time; a call during a drain adds one more pass to it. */
  #drain(): Promise<void> {
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = this.#drainLoop().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  async #drainLoop(): Promise<void> {
    const host = this.#hostOrUndefined();
    if (!host) return;
    const runner = this.#runnerOf(host);
    try {
      // Feeds that arrive during a pass set #again; nothing can arrive between the last check
      // and the end of this function (no await there).
      do {
        this.#again = false;
        await this.ctx.storage.setAlarm(Date.now() + resumeAfterMs);
        await runner.drain();
        this.#failures = 0;
        const checkpoint = (await this.#store.consumer(host.key))?.checkpoint;
        if (checkpoint !== undefined) this.#inbox.compact(checkpoint);
        await this.#arm(host);
      } while (this.#again);
    } catch (error) {
      this.#failures += 1;
      const delay = Math.min(30_000, 1_000 * 2 ** (this.#failures - 1));
      console.warn(`chronicle sync node: ${host.key} failed, retrying in ${delay} ms`, error);
      await this.ctx.storage.setAlarm(Date.now() + delay);
    }
  }

  /** H3: the alarm at the earliest deadline or reaction retry, or none. */
  async #arm(host: HostDefinition): Promise<void> {
    const clock = processClock() ?? systemClock;
    let earliest = this.#store.nextDeadline() ?? Number.POSITIVE_INFINITY;
    if (host.definition.kind === "reaction") {
      const retry = (await this.#store.consumer(host.key))?.retry;
      if (retry) earliest = Math.min(earliest, retry.dueAt);
    }
    if (earliest === Number.POSITIVE_INFINITY) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Date.now() + Math.max(0, earliest - clock.now()));
  }
}

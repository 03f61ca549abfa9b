// internal: not exported. How a StreamLog feeds the ProcessHosts (docs/architecture.md,
// "Processes", "On the sync node"), the directory notifier's pattern:
// 1. At least once: for each host, the position up to which this log has fed it is kept in the
//    log's meta (`process_fed:<host key>`). Whenever it is behind the head (after a commit, when
//    the object wakes, at its alarm) the events after it that the host listens to are sent,
//    in position order, a page at a time; the position moves only once the host has stored them.
// 2. Before a feed is sent the log's alarm is set a moment ahead (synchronously, with the commit,
//    so the output gate holds the ack until both are stored): a log killed between its commit
//    and the host's answer sends the feed again when that alarm wakes it.
// 3. One feed in flight per log: commits meanwhile are folded into one more pass. A failed feed
//    is retried by the alarm, backing off from 1 s to 30 s. Pushes never wait for a feed.
// 4. Duplicates are harmless: the host's inbox is unique by event id, and the runner handles an
//    event once per instance (P2). Events no host listens to only move the positions.
import type { ConfirmedEvent } from "@chronicle/core";
import type { SyncNodeEnv } from "../env.ts";
import type { LogTable } from "../stream-log/log-table.ts";
import type { Outcome } from "../stream-log/worker-contract.ts";
import { type HostDefinition, processHosts } from "./definitions.ts";

const fedKey = (host: HostDefinition) => `process_fed:${host.key}`;
/** Events per feed. */
const pageSize = 100;
/** Bytes of events per feed (RPC messages stay far below their limit). */
const pageBytes = 1_048_576;
/** Rule 2: when the alarm that resends an unanswered feed fires. */
const resendAfterMs = 2_000;

export class ProcessNotifier {
  #inFlight = false;
  #again = false;
  #failures = 0;

  constructor(
    private readonly env: SyncNodeEnv,
    private readonly log: LogTable,
    /** Sets the object's alarm to fire by `atMs`, synchronously (rule 2). */
    private readonly alarmBy: (atMs: number) => void,
    /** Makes sure the object's alarm fires by `atMs` (rule 3). */
    private readonly retryAt: (atMs: number) => Promise<void>,
  ) {}

  /** Feeds the hosts what they have not heard of this log yet (rules 1, 3). */
  notify(): void {
    const namespace = this.env.PROCESS_HOST;
    const hosts = processHosts();
    if (!namespace || hosts.length === 0) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    const head = this.log.head;
    if (!hosts.some((host) => this.#fed(host) < head && this.#hasWork(host, head))) return;
    // After a failure the backoff alarm is already set (rule 3): do not bring it forward.
    if (this.#failures === 0) this.alarmBy(Date.now() + resendAfterMs);
    this.#inFlight = true;
    void this.#send(namespace);
  }

  /**
   * Whether the host listens to an event it has not been fed. When the events after its position
   * (a page of them) hold none, its position moves to the head here, with no feed and no alarm:
   * streams no process listens to cost one read per commit.
   */
  #hasWork(host: HostDefinition, head: number): boolean {
    const page = this.log.readPage(this.#fed(host), pageSize, pageBytes);
    const last = page.at(-1)?.position ?? head;
    if (last < head) return true;
    if (page.some((stored) => host.definition.registry.has(typeOf(stored.json)))) return true;
    this.log.setMeta(fedKey(host), String(last));
    return false;
  }

  #fed(host: HostDefinition): number {
    return Number(this.log.meta(fedKey(host)) ?? "0");
  }

  async #send(namespace: NonNullable<SyncNodeEnv["PROCESS_HOST"]>): Promise<void> {
    try {
      do {
        this.#again = false;
        for (const host of processHosts()) {
          for (let fed = this.#fed(host); fed < this.log.head; fed = this.#fed(host)) {
            const page = this.log.readPage(fed, pageSize, pageBytes);
            if (page.length === 0) break;
            const events = page
              .map((stored) => JSON.parse(stored.json) as ConfirmedEvent)
              .filter((event) => host.definition.registry.has(event.type));
            if (events.length > 0) {
              const stub = namespace.get(namespace.idFromName(host.key));
              failed(await stub.feed(host.key, events));
            }
            const last = page.at(-1)!.position;
            if (this.#fed(host) < last) this.log.setMeta(fedKey(host), String(last));
          }
        }
      } while (this.#again);
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      const delay = Math.min(30_000, 1_000 * 2 ** (this.#failures - 1));
      console.warn("chronicle sync node: feeding a process host failed", error);
      await this.retryAt(Date.now() + delay).catch(() => {});
    } finally {
      this.#inFlight = false;
    }
  }
}

/** An event's type, from its stored JSON. */
function typeOf(json: string): string {
  return (JSON.parse(json) as ConfirmedEvent).type;
}

/** Throws a host's refusal of a feed (a configuration or routing bug: logged and retried). */
function failed(outcome: Outcome<number>): void {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
}

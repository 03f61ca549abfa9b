// internal: not exported. How a StreamLog tells its space's StreamDirectory where its head is
// (docs/architecture.md, "Many streams"):
// 1. After every commit, at least once: the head the directory acknowledged is kept in the log's
//    meta (`directory_head`); whenever it is behind the head (after a commit, when the object
//    wakes, at its alarm) a notice of the current head and epoch is sent.
// 2. One notice in flight per stream: commits meanwhile are folded into one more notice of the
//    latest head when it returns. The directory keeps the highest head it hears, so duplicates
//    and reordering are harmless.
// 3. A failed notice is retried by the object's alarm, backing off from 1 s to 30 s. Pushes never
//    wait for it: the log is the authority, the directory only an index of it.
// 4. Streams with no ':' in their id belong to no space and are not noticed; nor is anything
//    when the node has no STREAM_DIRECTORY binding.
import { spaceOf } from "@chronicle/sync/protocol";
import type { SyncNodeEnv } from "../env.ts";
import type { LogTable } from "./log-table.ts";
import type { Outcome } from "./worker-contract.ts";

const noticedKey = "directory_head";

export class DirectoryNotifier {
  #inFlight = false;
  #again = false;
  #failures = 0;

  constructor(
    private readonly env: SyncNodeEnv,
    private readonly log: LogTable,
    /** Makes sure the object's alarm fires by `atMs` (rule 3). */
    private readonly retryAt: (atMs: number) => Promise<void>,
  ) {}

  /** Whether the directory may be behind this log (rule 1). */
  behind(): boolean {
    return Number(this.log.meta(noticedKey) ?? "0") < this.log.head;
  }

  /** Tells the directory the head of `stream` when it may not know it yet (rules 1, 2). */
  notify(stream: string): void {
    const namespace = this.env.STREAM_DIRECTORY;
    const space = spaceOf(stream);
    if (!namespace || space === undefined) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    if (!this.behind()) return;
    this.#inFlight = true;
    void this.#send(namespace, space, stream);
  }

  async #send(
    namespace: NonNullable<SyncNodeEnv["STREAM_DIRECTORY"]>,
    space: string,
    stream: string,
  ): Promise<void> {
    try {
      const directory = namespace.get(namespace.idFromName(space));
      do {
        this.#again = false;
        if (!this.behind()) continue;
        const head = this.log.head;
        failed(await directory.notice(space, stream, head, this.log.epoch));
        if (Number(this.log.meta(noticedKey) ?? "0") < head) {
          this.log.setMeta(noticedKey, String(head));
        }
      } while (this.#again);
      this.#failures = 0;
    } catch (error) {
      this.#failures += 1;
      const delay = Math.min(30_000, 1_000 * 2 ** (this.#failures - 1));
      console.warn(`chronicle sync node: directory notice for ${stream} failed`, error);
      await this.retryAt(Date.now() + delay).catch(() => {});
    } finally {
      this.#inFlight = false;
    }
  }
}

/** Throws the directory's refusal of a notice (a routing bug: it is logged and retried). */
function failed(outcome: Outcome<boolean>): void {
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
}

// internal: not exported. MemoryNode's stream directory (docs/architecture.md, "Many streams"):
// the heads of the node's streams, listed by prefix and pushed to watch sockets. It keeps the
// StreamDirectory object's rules, in memory:
// 1. A stream enters the directory at its first commit, and each commit tells it the head. A
//    notice only raises a row's head; one of another epoch (a recreated log) replaces the row.
// 2. A caller sees only the streams its grants under the prefix may read (`readableUnder` on
//    `grantsUnder`'s answer, computed by the caller like the Worker does).
// 3. A listing is one page in stream id order: `next` (the page's last id) when a stream the
//    caller may read follows it, absent on the last page.
// 4. A watcher gets the current heads on connecting (`more: true` on every frame but the last;
//    at least one frame), then a `heads` frame of each stream that moved. Frames stay under the
//    frame limit.
// Workers-only details left out: the 100 ms coalescing of heads (each commit is told at once
// here), the 5,000-row scan cap of a listing page, the 2 KB socket attachment, rate limits.

import { readableUnder, type StreamHead, type StreamsResponse } from "../protocol/directory.ts";
import { byteLength } from "../protocol/limits.ts";

/** A watch socket's node side, as the directory sees it. */
export interface DirectoryWatcher {
  /** Streams whose id starts with this. */
  prefix: string;
  /** The grants under the prefix (`grantsUnder`). */
  grants: "all" | readonly string[];
  /** Delivers a `heads` frame (as JSON text) to the socket. */
  send(text: string): void;
}

export class MemoryDirectory {
  readonly #rows = new Map<string, StreamHead>();
  readonly #watchers = new Set<DirectoryWatcher>();
  readonly #maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** A commit of `stream` at `head` (rule 1); watchers of its prefix hear of it (rule 4). */
  notice(stream: string, head: number, epoch: string): void {
    const row = this.#rows.get(stream);
    if (row && row.epoch === epoch && row.head >= head) return;
    const moved: StreamHead = { stream, head, epoch };
    this.#rows.set(stream, moved);
    for (const watcher of this.#watchers) {
      if (!stream.startsWith(watcher.prefix) || !readableUnder(watcher.grants, stream)) continue;
      watcher.send(JSON.stringify({ t: "heads", streams: [moved] }));
    }
  }

  /** One page of the readable streams under `prefix` after the id `after` (rule 3). */
  list(
    query: { prefix: string; after?: string; limit: number },
    grants: "all" | readonly string[],
  ): StreamsResponse {
    const { prefix, after, limit } = query;
    const found = this.#visible(prefix, grants).filter(
      (entry) => after === undefined || entry.stream > after,
    );
    if (found.length <= limit) return { streams: found };
    const streams = found.slice(0, limit);
    return { streams, next: streams.at(-1)!.stream };
  }

  /** Adds a watcher and sends it the current heads (rule 4); returns its removal. */
  watch(watcher: DirectoryWatcher): () => void {
    for (const frame of this.#currentFrames(this.#visible(watcher.prefix, watcher.grants))) {
      watcher.send(frame);
    }
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** The readable rows under `prefix`, in stream id order (code unit order, as SQLite's). */
  #visible(prefix: string, grants: "all" | readonly string[]): StreamHead[] {
    return [...this.#rows.values()]
      .filter((row) => row.stream.startsWith(prefix) && readableUnder(grants, row.stream))
      .sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0))
      .map((row) => ({ ...row }));
  }

  /** Heads frames under the frame limit, all but the last with `more: true`; at least one. */
  #currentFrames(entries: StreamHead[]): string[] {
    const frames: string[] = [];
    const envelope = byteLength(JSON.stringify({ t: "heads", streams: [], more: true }));
    let page: StreamHead[] = [];
    let bytes = envelope;
    for (const entry of entries) {
      const size = byteLength(JSON.stringify(entry)) + 1;
      if (page.length > 0 && bytes + size > this.#maxFrameBytes) {
        frames.push(JSON.stringify({ t: "heads", streams: page, more: true }));
        page = [];
        bytes = envelope;
      }
      page.push(entry);
      bytes += size;
    }
    frames.push(JSON.stringify({ t: "heads", streams: page }));
    return frames;
  }
}

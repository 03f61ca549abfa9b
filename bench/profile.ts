// internal: not exported. The browser benchmarks run on an on-disk Chromium profile, as users
// do (a regular Playwright context keeps IndexedDB in memory): Playwright's persistent context
// on a directory emptied at each run. The `profileUsage` command lets a page measure it.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The profile directory of this run: one per Vitest process (a second bench run beside this one
 * must not empty it under this run's browser), under bench/output (ignored by git). The config is
 * evaluated more than once per process (the project, the browser server): the first evaluation
 * creates it, the next ones find it in the environment.
 */
export function freshProfile(): string {
  const known = process.env.CHRONICLE_BENCH_PROFILE;
  if (known) return known;
  const dir = fileURLToPath(new URL(`./output/chromium-profile-${process.pid}`, import.meta.url));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.env.CHRONICLE_BENCH_PROFILE = dir;
  return dir;
}

/** Global setup: removes this run's profile when the run ends. */
export default function setup(): () => void {
  return () => {
    const dir = process.env.CHRONICLE_BENCH_PROFILE;
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

export interface ProfileUsage {
  dir: string;
  /** Bytes under the profile's IndexedDB directories. */
  indexedDbBytes: number;
  indexedDbFiles: number;
  /**
   * Bytes of the IndexedDB files written since `since` (epoch ms): LevelDB appends to its log
   * and writes new tables, while compaction may shrink the total meanwhile.
   */
  writtenBytes: number;
}

/** Sums the files under every `IndexedDB` directory of the profile. */
export function profileUsage(since = Number.POSITIVE_INFINITY): ProfileUsage {
  let indexedDbBytes = 0;
  let indexedDbFiles = 0;
  let writtenBytes = 0;
  const walk = (dir: string, inIndexedDb: boolean) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const inside = inIndexedDb || entry.name === "IndexedDB";
      if (entry.isDirectory()) walk(path, inside);
      else if (inside && entry.isFile()) {
        try {
          const { size, mtimeMs } = statSync(path);
          indexedDbBytes += size;
          indexedDbFiles++;
          if (mtimeMs >= since) writtenBytes += size;
        } catch {
          // Chromium removed it meanwhile (a compacted log file).
        }
      }
    }
  };
  const profileDir = freshProfile();
  walk(profileDir, false);
  return { dir: profileDir, indexedDbBytes, indexedDbFiles, writtenBytes };
}

declare module "vitest/browser" {
  interface BrowserCommands {
    /** The on-disk profile's directory and its IndexedDB footprint (see bench/profile.ts). */
    profileUsage: (since?: number) => Promise<ProfileUsage>;
  }
}

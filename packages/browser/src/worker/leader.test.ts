// Node tier: without Web Locks the context leads at once, also where `navigator.locks` is null
// (happy-dom defines it so) rather than absent.
import { afterEach, expect, it, vi } from "vitest";
import { electLeader } from "./leader.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

for (const [name, navigator] of [
  ["no navigator.locks", {}],
  ["navigator.locks = null (happy-dom)", { locks: null }],
] as const) {
  it(`leads at once with ${name}, and lets go on release`, async () => {
    vi.stubGlobal("navigator", navigator);
    const changes: boolean[] = [];
    const leadership = electLeader("chronicle-leader:test", (leader) => changes.push(leader));
    await Promise.resolve();
    expect(changes).toEqual([true]);
    expect(leadership.isLeader).toBe(true);
    leadership.release();
    expect(changes).toEqual([true, false]);
  });
}

// internal: not exported. A state that crossed from the worker is a fresh copy of every object
// in it, even where nothing changed: a memoised component given one of its parts (a card of a
// board) would render again after every event. The cache gives the new state the previous
// state's objects wherever they are equal, so a part keeps its identity until it changes.

/**
 * `next`, with every plain object or array that equals (deeply) its counterpart in `previous`
 * replaced by that counterpart; `previous` itself when the whole state is equal. Other values
 * (class instances, Maps, Sets, Dates) are compared by identity, so they stay as `next` has them.
 * `next` is changed in place (it is a fresh copy the caller owns: a state just received from the
 * worker); `previous` is not.
 */
export function shareUnchanged<T>(previous: unknown, next: T): T {
  if (Object.is(previous, next)) return next;
  if (Array.isArray(previous) && Array.isArray(next)) {
    let same = previous.length === next.length;
    for (let index = 0; index < next.length; index++) {
      const shared = shareUnchanged(previous[index], next[index]);
      if (shared !== previous[index]) same = false;
      else next[index] = shared;
    }
    return (same ? previous : next) as T;
  }
  if (isPlainObject(previous) && isPlainObject(next)) {
    const fresh: Record<string, unknown> = next;
    let same = true;
    let count = 0;
    for (const key in fresh) {
      count++;
      const before = previous[key];
      const shared = shareUnchanged(before, fresh[key]);
      if (shared !== before || (before === undefined && !Object.hasOwn(previous, key))) {
        same = false;
      } else fresh[key] = shared;
    }
    if (same) for (const _ in previous) if (--count < 0) break;
    return (same && count === 0 ? previous : next) as T;
  }
  return next;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

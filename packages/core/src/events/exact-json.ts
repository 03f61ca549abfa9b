// Exact JSON (docs/architecture.md, "Exact data"): event data must come out of JSON text, a
// store and the wire exactly as it went in, on every device. Values that JSON round-tripping (or
// a UTF-8 store, or an object spread) would silently change are refused with `validation` and
// the path, never altered:
// 1. a `__proto__` key (object spreads and schema copies turn it into a prototype and drop it);
// 2. a number that is not finite (1e400 parses to Infinity, which JSON writes as null) or -0
//    (written as 0);
// 3. a string or key holding a lone UTF-16 surrogate (UTF-8 has no encoding for it);
// 4. in JS values only: undefined, functions, symbols, bigints, array holes, and objects that
//    are not plain (Date, Map, class instances): JSON drops or rewrites them;
// 5. in JSON text only: a key twice in one object (JSON.parse keeps the last one).
// Both sides run the same checks: the client before it stores or pushes (local logs refuse
// pending events that fail them, `defineEvent`'s `create` checks data), the node before it
// stores, so a device never keeps a copy the node would store differently. Pure: it lives in
// core so that every store and local log can run it; `@chronicle/sync/protocol` re-exports it.
import { ChronicleError } from "../errors.ts";

/** Deepest JSON nesting accepted in event data, a frame or a body. */
export const MAX_JSON_DEPTH = 64;

/** Where a value stops being exact JSON, and why. */
export interface InexactJson {
  /** Dotted path from the checked value (`data.items.3.title`); `(root)` for the value itself. */
  path: string;
  /** What is wrong there, for people: "is NaN, which JSON cannot hold". */
  reason: string;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const join = (path: string, key: string | number) =>
  path === "" ? String(key) : `${path}.${String(key)}`;

function inexactNumber(value: number): string | undefined {
  if (!Number.isFinite(value)) return `is ${value}, which JSON cannot hold`;
  if (Object.is(value, -0)) return "is -0, which JSON stores as 0";
  return undefined;
}

function walk(value: unknown, path: string, depth: number): InexactJson | undefined {
  const at = (reason: string): InexactJson => ({ path: path === "" ? "(root)" : path, reason });
  if (depth > MAX_JSON_DEPTH) return at(`is nested deeper than ${MAX_JSON_DEPTH} levels`);
  switch (typeof value) {
    case "boolean":
      return undefined;
    case "number": {
      const reason = inexactNumber(value);
      return reason === undefined ? undefined : at(reason);
    }
    case "string":
      return loneSurrogate.test(value)
        ? at("holds a lone UTF-16 surrogate, which UTF-8 cannot carry")
        : undefined;
    case "object":
      break;
    default:
      return at(`is ${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}, not JSON`);
  }
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (!(index in value)) return at(`has a hole at ${index}, which JSON stores as null`);
      const found = walk(value[index], join(path, index), depth + 1);
      if (found) return found;
    }
    if (Object.keys(value).length !== value.length) return at("is an array with named properties");
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return at(`is ${typeof name === "string" ? `a ${name}` : "an object"}, not a plain object`);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) return at("has symbol keys");
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return at('has a "__proto__" key, which is refused');
    if (loneSurrogate.test(key)) {
      return at(`has a key holding a lone UTF-16 surrogate (${JSON.stringify(key)})`);
    }
    const found = walk((value as Record<string, unknown>)[key], join(path, key), depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Finds the first place where `value` is not exact JSON (rules 1-4 above), or `undefined` when
 * it survives JSON text, stores and the wire unchanged.
 *
 * @example
 * findInexactJson({ a: [1, -0] }); // { path: "a.1", reason: "is -0, which JSON stores as 0" }
 */
export function findInexactJson(value: unknown): InexactJson | undefined {
  return walk(value, "", 0);
}

/**
 * The path of the first `__proto__` own key in `value` (rule 1), or undefined: for checking
 * input before a schema copies it (the copy loses the key silently, so the output cannot tell).
 * Internal to core (defineEvent); `findInexactJson` covers it for values stored as they are.
 */
export function findProtoKey(value: unknown, path = "", depth = 0): string | undefined {
  if (typeof value !== "object" || value === null || depth > MAX_JSON_DEPTH) return undefined;
  for (const key of Object.keys(value)) {
    if (key === "__proto__") return path === "" ? "(root)" : path;
    const found = findProtoKey((value as Record<string, unknown>)[key], join(path, key), depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Throws `validation` (with `details.path`, prefixed by `path`) unless `value` is exact JSON.
 * The client runs it on event data before storing or pushing; the node on every pushed event.
 *
 * @example
 * assertExactJson(event.data, "data"); // throws ChronicleError("validation", 'data.k: has a "__proto__" key, ...')
 */
export function assertExactJson(
  value: unknown,
  path = "",
  details: Record<string, unknown> = {},
): void {
  const found = findInexactJson(value);
  if (found === undefined) return;
  const full = path === "" ? found.path : found.path === "(root)" ? path : `${path}.${found.path}`;
  throw new ChronicleError("validation", `${full}: ${found.reason}`, {
    details: { ...details, path: full },
  });
}

/** What {@link scanJsonText} learned about a JSON text. */
export interface JsonTextScan {
  /** Deepest array/object nesting. */
  depth: number;
  /** The first key that appears twice in one object, with its path. */
  duplicate?: {
    /** Dotted path of the object holding the key twice (`(root)` for the top level). */
    path: string;
    /** The repeated key. */
    key: string;
  };
}

interface Level {
  /** Keys seen so far (objects only). */
  keys?: Set<string>;
  /** The current key (objects) or index (arrays). */
  at: string | number;
  expectKey: boolean;
}

/**
 * Scans JSON text that `JSON.parse` accepted for what parsing hides: its nesting depth and the
 * first duplicate key (rule 5). Linear; brackets and quotes inside strings do not count.
 *
 * @example
 * scanJsonText('{"a":1,"a":2}'); // { depth: 1, duplicate: { path: "(root)", key: "a" } }
 */
export function scanJsonText(text: string): JsonTextScan {
  const stack: Level[] = [];
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 34) {
      // A string: find its end, skipping escapes.
      const start = index;
      let escaped = false;
      for (index++; index < text.length; index++) {
        const inner = text.charCodeAt(index);
        if (inner === 92) {
          escaped = true;
          index++;
        } else if (inner === 34) break;
      }
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        const raw = text.slice(start, index + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        top.expectKey = false;
        if (top.keys.has(key)) {
          const path = stack.slice(0, -1).map((level) => String(level.at));
          return { depth, duplicate: { path: path.length ? path.join(".") : "(root)", key } };
        }
        top.keys.add(key);
        top.at = key;
      }
    } else if (char === 123 || char === 91) {
      const object = char === 123;
      stack.push(
        object ? { keys: new Set(), at: "", expectKey: true } : { at: 0, expectKey: false },
      );
      depth = Math.max(depth, stack.length);
    } else if (char === 125 || char === 93) {
      stack.pop();
    } else if (char === 44) {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    }
  }
  return { depth };
}

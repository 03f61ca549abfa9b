/** What a token lets its holder do with a stream. */
export type StreamAccess = "read" | "write";

/**
 * The access a token's `streams` claim grants to `stream`: patterns are exact ids or end in `*`
 * (a prefix wildcard); write implies read; the most permissive match wins.
 *
 * @example
 * accessFor({ "board:*": "write", "public:news": "read" }, "board:7"); // "write"
 */
export function accessFor(
  scopes: Record<string, StreamAccess>,
  stream: string,
): StreamAccess | undefined {
  let access: StreamAccess | undefined;
  for (const [pattern, granted] of Object.entries(scopes)) {
    const matches = pattern.endsWith("*")
      ? stream.startsWith(pattern.slice(0, -1))
      : pattern === stream;
    if (!matches) continue;
    if (granted === "write") return "write";
    access = "read";
  }
  return access;
}

/**
 * True when `access` is enough for `needed`.
 *
 * @example
 * allows(accessFor(claims.streams, stream), "write");
 */
export function allows(access: StreamAccess | undefined, needed: StreamAccess): boolean {
  return access === "write" || (access === "read" && needed === "read");
}

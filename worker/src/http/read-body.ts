// internal: not exported. Reads a request body as text, refusing it as soon as it passes the
// limit (a body without Content-Length is counted while it streams, never buffered whole).
import { ChronicleError } from "@chronicle/core";

function tooLarge(limit: number): ChronicleError {
  return new ChronicleError("too-large", `body exceeds ${limit} bytes`, { details: { limit } });
}

export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ChronicleError("validation", "body is not valid UTF-8");
  }
}

// internal: not exported. Makes errors cross comlink as ChronicleErrors with their code. Comlink
// alone sends only an Error's name, message and stack; here every thrown value travels as
// ChronicleError JSON (non-Chronicle errors become `internal`) and is rebuilt on the other side.
// Both sides must install it: the worker to serialize, the main thread to deserialize.
import { ChronicleError, type ChronicleErrorJSON, toChronicleError } from "@chronicle/core";
import { transferHandlers } from "comlink";

interface SerializedThrow {
  chronicle: ChronicleErrorJSON;
  stack?: string | undefined;
}

let installed = false;

/** Replaces comlink's "throw" transfer handler (idempotent). */
export function installErrorTransfer(): void {
  if (installed) return;
  const original = transferHandlers.get("throw");
  if (!original) throw new Error("comlink has no throw transfer handler to replace");
  installed = true;
  transferHandlers.set("throw", {
    // Comlink marks thrown values with a private symbol: keep its own test.
    canHandle: original.canHandle,
    serialize(thrown: unknown): [SerializedThrow, Transferable[]] {
      const value = (thrown as { value: unknown }).value;
      const error = toChronicleError(value);
      return [{ chronicle: error.toJSON(), stack: error.stack }, []];
    },
    deserialize(serialized: unknown): never {
      const { chronicle, stack } = serialized as SerializedThrow;
      const error = ChronicleError.fromJSON(chronicle);
      if (stack) error.stack = stack;
      throw error;
    },
  });
}

import type { Chronicle } from "@chronicle/browser";
import { createContext, type ReactNode, useContext } from "react";

/** internal: the provider's Chronicle (devtools read it without throwing). */
export const ChronicleContext = createContext<Chronicle | undefined>(undefined);

/** The props of {@link ChronicleProvider}. */
export interface ChronicleProviderProps {
  /** The browser Chronicle (`await createChronicle(...)`) the hooks below use. */
  chronicle: Chronicle;
  /** The components that use the hooks. */
  children?: ReactNode;
}

/**
 * Makes a Chronicle available to the hooks below it.
 *
 * @example
 * const chronicle = await createChronicle({ worker: new Worker(workerUrl, { type: "module" }) });
 * createRoot(root).render(
 *   <ChronicleProvider chronicle={chronicle}>
 *     <Board />
 *   </ChronicleProvider>,
 * );
 */
export function ChronicleProvider(props: ChronicleProviderProps) {
  return (
    <ChronicleContext.Provider value={props.chronicle}>{props.children}</ChronicleContext.Provider>
  );
}

/**
 * The Chronicle of the nearest provider, for what the hooks do not cover (time travel, append,
 * rejections). Throws outside a provider.
 *
 * @example
 * const chronicle = useChronicle();
 * useEffect(() => chronicle.onRejected((notice) => toast(notice.message)), [chronicle]);
 */
export function useChronicle(): Chronicle {
  const chronicle = useContext(ChronicleContext);
  if (!chronicle)
    throw new Error("useChronicle: wrap your components in <ChronicleProvider chronicle={...}>");
  return chronicle;
}

/** internal: the explicit source, else the provider's Chronicle; throws naming the hook. */
export function useSource<Source>(
  hook: string,
  source: Source | undefined,
  fromChronicle: (chronicle: Chronicle) => Source,
): Source {
  const chronicle = useContext(ChronicleContext);
  if (source) return source;
  if (!chronicle)
    throw new Error(`${hook}: no source given and no <ChronicleProvider chronicle={...}> above`);
  return fromChronicle(chronicle);
}
